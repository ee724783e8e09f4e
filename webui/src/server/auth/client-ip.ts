import { normalizeBasePath } from '../../contract/env.ts';

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) is `10.0.0.1`. */
const plain = (ip: string) => ip.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/, '$1');

/**
 * The client address for rate limiting. X-Forwarded-For is believed only when
 * the direct peer is a trusted proxy (FORWARDED_ALLOW_IPS), and then only its
 * last entry, which that proxy appended itself; anything further left could
 * be written by the client.
 */
export function clientIp(peer: string, forwardedFor: string | undefined, trusted: readonly string[]): string {
  const direct = plain(peer);
  if (forwardedFor === undefined || forwardedFor.trim() === '') return direct;
  if (!trusted.includes('*') && !trusted.map(plain).includes(direct)) return direct;
  const hops = forwardedFor
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const last = hops[hops.length - 1];
  return last === undefined ? direct : plain(last);
}

/**
 * The path prefix a trusted proxy serves the app under (X-Forwarded-Prefix,
 * set by the frontend forwarder from WEBUI_BASE_PATH), normalized; "" when
 * absent, untrusted or not a plain path.
 */
export function forwardedPrefix(
  peer: string,
  header: string | undefined,
  trusted: readonly string[],
): string {
  if (header === undefined || header.trim() === '') return '';
  if (!trusted.includes('*') && !trusted.map(plain).includes(plain(peer))) return '';
  try {
    return normalizeBasePath(header.split(',')[0] ?? '');
  } catch {
    return '';
  }
}

/** HTTPS as the client saw it: our own TLS, or X-Forwarded-Proto from a trusted proxy (for the cookie's Secure flag). */
export function viaHttps(
  secureSocket: boolean,
  peer: string,
  forwardedProto: string | undefined,
  trusted: readonly string[],
): boolean {
  if (secureSocket) return true;
  if (!trusted.includes('*') && !trusted.map(plain).includes(plain(peer))) return false;
  return (forwardedProto ?? '').split(',')[0]?.trim().toLowerCase() === 'https';
}
