/**
 * IP addresses and CIDR ranges, for the trusted-proxy list (FORWARDED_ALLOW_IPS,
 * spec.network.trustedProxies). Pure: shared by the server, which matches
 * client addresses against the list, and the operator, which checks the list
 * before rendering it.
 */

/** An address as bytes: 4 for IPv4, 16 for IPv6. An IPv4-mapped IPv6 address is IPv4. */
export interface IpAddress {
  readonly bytes: Uint8Array;
}

/** A CIDR range; a single address is a range of /32 or /128. */
export interface IpRange {
  readonly bytes: Uint8Array;
  readonly prefix: number;
}

const V4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

function parseV4(s: string): Uint8Array | undefined {
  if (!V4.test(s)) return undefined;
  return Uint8Array.from(s.split('.').map(Number));
}

function parseV6(s: string): Uint8Array | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(s) || s.length > 45) return undefined;
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (part: string): number[] | undefined => {
    if (part === '') return [];
    const out: number[] = [];
    const items = part.split(':');
    for (let i = 0; i < items.length; i++) {
      const g = items[i] ?? '';
      if (i === items.length - 1 && g.includes('.')) {
        const v4 = parseV4(g);
        if (!v4) return undefined;
        out.push(((v4[0] ?? 0) << 8) | (v4[1] ?? 0), ((v4[2] ?? 0) << 8) | (v4[3] ?? 0));
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(Number.parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0] ?? '');
  const tail = halves.length === 2 ? groups(halves[1] ?? '') : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const all = [...head, ...new Array<number>(halves.length === 2 ? missing : 0).fill(0), ...tail];
  const bytes = new Uint8Array(16);
  all.forEach((g, i) => {
    bytes[2 * i] = g >> 8;
    bytes[2 * i + 1] = g & 0xff;
  });
  return bytes;
}

/** `::ffff:a.b.c.d` (IPv4 on a dual-stack socket) as the IPv4 address it is. */
function unmap(bytes: Uint8Array): Uint8Array {
  if (bytes.length !== 16) return bytes;
  for (let i = 0; i < 10; i++) if (bytes[i] !== 0) return bytes;
  return bytes[10] === 0xff && bytes[11] === 0xff ? bytes.slice(12) : bytes;
}

/** Parses an IPv4 or IPv6 address (no port, no zone); undefined when it is not one. */
export function parseIp(raw: string): IpAddress | undefined {
  const bytes = raw.includes(':') ? parseV6(raw) : parseV4(raw);
  return bytes ? { bytes: unmap(bytes) } : undefined;
}

/** The canonical text of an address: dotted IPv4, RFC 5952 IPv6 (lower case, longest zero run as ::). */
export function formatIp(ip: IpAddress | undefined): string {
  if (!ip) return '';
  const b = ip.bytes;
  if (b.length === 4) return Array.from(b).join('.');
  const g = Array.from({ length: 8 }, (_, i) => ((b[2 * i] ?? 0) << 8) | (b[2 * i + 1] ?? 0));
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  return best < 0 ? hex(g) : `${hex(g.slice(0, best))}::${hex(g.slice(best + bestLen))}`;
}

/** Parses `a.b.c.d/n`, `v6/n` or a single address. Host bits after the prefix are refused (a typo). */
export function parseIpRange(raw: string): IpRange | undefined {
  const [addr = '', len, ...rest] = raw.split('/');
  if (rest.length > 0) return undefined;
  const ip = addr.includes(':') ? parseV6(addr) : parseV4(addr);
  if (!ip) return undefined;
  const max = ip.length * 8;
  if (len !== undefined && !/^(0|[1-9]\d{0,2})$/.test(len)) return undefined;
  const prefix = len === undefined ? max : Number(len);
  if (prefix > max) return undefined;
  for (let bit = prefix; bit < max; bit++) {
    if (((ip[bit >> 3] ?? 0) >> (7 - (bit & 7))) & 1) return undefined;
  }
  // ::ffff:0:0/96 and narrower are IPv4 ranges.
  const mapped = unmap(ip);
  return mapped.length === 4 && ip.length === 16 && prefix >= 96
    ? { bytes: mapped, prefix: prefix - 96 }
    : { bytes: ip, prefix };
}

export function inRange(ip: IpAddress, range: IpRange): boolean {
  if (ip.bytes.length !== range.bytes.length) return false;
  for (let bit = 0; bit < range.prefix; bit += 8) {
    const n = Math.min(8, range.prefix - bit);
    const mask = (0xff << (8 - n)) & 0xff;
    const i = bit >> 3;
    if (((ip.bytes[i] ?? 0) & mask) !== ((range.bytes[i] ?? 0) & mask)) return false;
  }
  return true;
}

/** A parsed trusted-proxy list: `*` (any peer) and CIDR ranges. */
export interface TrustedProxies {
  readonly any: boolean;
  readonly ranges: readonly IpRange[];
}

/** Parses a trusted-proxy list; throws an Error naming the first entry that is neither `*`, an address nor a CIDR. */
export function parseTrustedProxies(entries: readonly string[]): TrustedProxies {
  const ranges: IpRange[] = [];
  let any = false;
  for (const e of entries) {
    if (e === '*') {
      any = true;
      continue;
    }
    const r = parseIpRange(e);
    if (!r) {
      throw new Error(
        `expected IP addresses or CIDR ranges such as 10.0.0.0/8, 127.0.0.1 or fd00::/8, or *, got "${e}"`,
      );
    }
    ranges.push(r);
  }
  return { any, ranges };
}

/** Whether an address is in one of the list's ranges (`*` not counted: see TrustedProxies.any). */
export function inAnyRange(ip: IpAddress, list: TrustedProxies): boolean {
  return list.ranges.some((r) => inRange(ip, r));
}

/**
 * True when a URL names this machine: localhost, *.localhost, 127.0.0.0/8,
 * ::1, IPv4-mapped loopback and the unspecified addresses. The server uses it
 * to explain an unreachable Ollama, the operator to skip probing a URL that
 * would only mean its own pod.
 */
export function isLoopbackUrl(raw: string): boolean {
  let host: string;
  try {
    host = new URL(raw).hostname.toLowerCase();
  } catch {
    return false;
  }
  // WHATWG URL already canonicalises 127.1, 2130706433 and [0:0:0:0:0:0:0:1]; an IPv4-mapped
  // address comes out in hex ([::ffff:7f00:1]); a trailing dot is the same DNS name.
  host = host.replace(/^\[|\]$/g, '').replace(/\.$/, '');
  return (
    host === 'localhost' ||
    host.endsWith('.localhost') ||
    host === '0.0.0.0' ||
    host === '::' ||
    host === '::1' ||
    /^127\.\d+\.\d+\.\d+$/.test(host) ||
    /^::ffff:7f[0-9a-f]{2}:[0-9a-f]{1,4}$/.test(host) ||
    host === '::ffff:0:0'
  );
}
