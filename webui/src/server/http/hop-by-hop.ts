import type { IncomingHttpHeaders } from 'node:http';

/**
 * Headers that describe one TCP hop, not the message (RFC 9110 §7.6.1). A
 * proxy must not pass them on: the next hop negotiates its own framing and
 * connection handling.
 */
const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-authenticate',
  'proxy-authorization',
  'proxy-connection',
  'te',
  'trailer',
  'trailers',
  'transfer-encoding',
  'upgrade',
]);

/** Header names listed in `Connection: a, b` are hop-by-hop too. */
function connectionTokens(headers: IncomingHttpHeaders): Set<string> {
  const raw = headers.connection;
  const out = new Set<string>();
  if (raw === undefined) return out;
  for (const part of String(raw).split(',')) {
    const t = part.trim().toLowerCase();
    if (t !== '') out.add(t);
  }
  return out;
}

export function isHopByHop(name: string): boolean {
  return HOP_BY_HOP.has(name.toLowerCase());
}

/**
 * The end-to-end headers of a message: everything except hop-by-hop headers
 * and those named in its Connection header, minus any names in `drop`.
 * Multi-value headers such as Set-Cookie stay arrays.
 */
export function endToEndHeaders(
  headers: IncomingHttpHeaders,
  drop: ReadonlySet<string> = new Set(),
): Record<string, string | string[]> {
  const named = connectionTokens(headers);
  const out: Record<string, string | string[]> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    const lower = name.toLowerCase();
    if (HOP_BY_HOP.has(lower) || named.has(lower) || drop.has(lower)) continue;
    out[lower] = value;
  }
  return out;
}
