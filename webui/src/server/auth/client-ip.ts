import { normalizeBasePath } from '../../contract/env.ts';
import {
  formatIp,
  type IpAddress,
  inAnyRange,
  parseIp,
  parseTrustedProxies,
  type TrustedProxies,
} from '../../contract/ip.ts';

/*
 * Trust rules for the X-Forwarded-* headers, uvicorn's FORWARDED_ALLOW_IPS
 * (Open WebUI) with one deliberate difference. The list holds addresses, CIDR
 * ranges and `*`. Headers are believed only when the direct peer is in the
 * list. The client is then the rightmost X-Forwarded-For entry that is not a
 * trusted proxy: every proxy appends the address it saw, so entries to the
 * right of the client were written by proxies we trust, and anything to its
 * left could have been written by the client. When every entry is trusted,
 * the leftmost is the client (as in uvicorn). `*` trusts any peer but no
 * entry: the client is the entry the peer appended. (uvicorn takes the
 * leftmost entry with `*`, which the client can choose.)
 */

/** The longest client key kept from an entry that is not an address. */
const MAX_LITERAL = 64;

const parsed = new WeakMap<readonly string[], TrustedProxies>();

/** The list, parsed once per array (the server's is parsed and checked at startup). */
function trustOf(list: readonly string[]): TrustedProxies {
  let t = parsed.get(list);
  if (!t) {
    t = parseTrustedProxies(list);
    parsed.set(list, t);
  }
  return t;
}

function peerTrusted(peer: string, list: readonly string[]): boolean {
  const t = trustOf(list);
  if (t.any) return true;
  const ip = parseIp(peer);
  return ip !== undefined && inAnyRange(ip, t);
}

/** `::ffff:10.0.0.1` (IPv4 on a dual-stack socket) is `10.0.0.1`; other text stays as it is. */
function plain(peer: string): string {
  const ip = parseIp(peer);
  return ip ? formatIp(ip) : peer;
}

/** One X-Forwarded-For entry as proxies write it: an address, `a.b.c.d:port` or `[v6]:port`. */
function hop(entry: string): IpAddress | undefined {
  const bracketed = /^\[([^\]]+)\](?::\d+)?$/.exec(entry);
  if (bracketed) return parseIp(bracketed[1] ?? '');
  const v4port = /^(\d+\.\d+\.\d+\.\d+):\d+$/.exec(entry);
  return parseIp(v4port ? (v4port[1] ?? '') : entry);
}

/**
 * The client address for rate limiting, by the trust rules above: the peer,
 * unless it is a trusted proxy, then the rightmost X-Forwarded-For entry that
 * is not one. An entry that is not an address ends the search and is the
 * client, cut to 64 characters.
 */
export function clientIp(peer: string, forwardedFor: string | undefined, trusted: readonly string[]): string {
  const direct = plain(peer);
  if (forwardedFor === undefined || !peerTrusted(peer, trusted)) return direct;
  const hops = forwardedFor
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const t = trustOf(trusted);
  for (let i = hops.length - 1; i >= 0; i--) {
    const entry = hops[i] ?? '';
    const ip = hop(entry);
    if (!ip) return entry.slice(0, MAX_LITERAL);
    if (!inAnyRange(ip, t) || i === 0) return formatIp(ip);
  }
  return direct;
}

/**
 * What the frontend forwarder sends on to the backend, by the same trust rules:
 * X-Forwarded-For is the one client address it resolved (so the backend,
 * which trusts the forwarder, takes that client and nothing a client wrote);
 * X-Forwarded-Proto and X-Forwarded-Host are passed on from a trusted peer and
 * otherwise describe the forwarder's own connection.
 */
export function forwardedHeaders(
  peer: string,
  incoming: { for?: string | undefined; proto?: string | undefined; host?: string | undefined },
  trusted: readonly string[],
  own: { proto: string; host: string },
): { for: string; proto: string; host: string } {
  const believe = peerTrusted(peer, trusted);
  const first = (v: string | undefined) => v?.split(',')[0]?.trim() || undefined;
  return {
    for: clientIp(peer, incoming.for, trusted),
    proto: (believe ? first(incoming.proto) : undefined) ?? own.proto,
    host: (believe ? first(incoming.host) : undefined) ?? own.host,
  };
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
  if (!peerTrusted(peer, trusted)) return '';
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
  if (!peerTrusted(peer, trusted)) return false;
  return (forwardedProto ?? '').split(',')[0]?.trim().toLowerCase() === 'https';
}
