import { describe, expect, it } from 'vitest';
import { readEnv } from './env.ts';
import { formatIp, inRange, isLoopbackUrl, parseIp, parseIpRange, parseTrustedProxies } from './ip.ts';

describe('parseIp / formatIp', () => {
  it('parses IPv4 and IPv6 and prints them canonically', () => {
    expect(formatIp(parseIp('10.0.0.1'))).toBe('10.0.0.1');
    expect(formatIp(parseIp('2001:0DB8:0000:0000:0000:0000:0000:0001'))).toBe('2001:db8::1');
    expect(formatIp(parseIp('2001:db8:0:1:0:0:0:1'))).toBe('2001:db8:0:1::1');
    expect(formatIp(parseIp('::'))).toBe('::');
    expect(formatIp(parseIp('::1'))).toBe('::1');
    expect(formatIp(parseIp('fe80:0:0:0:1:0:0:0'))).toBe('fe80::1:0:0:0');
  });

  it('reads an IPv4 address on a dual-stack socket as IPv4', () => {
    expect(formatIp(parseIp('::ffff:10.0.0.1'))).toBe('10.0.0.1');
    expect(formatIp(parseIp('::ffff:a00:1'))).toBe('10.0.0.1');
  });

  it('refuses what is not an address', () => {
    for (const bad of [
      '',
      'x',
      '1.2.3',
      '1.2.3.4.5',
      '256.1.1.1',
      '01.2.3.4',
      '1.2.3.4 ',
      ':::',
      '1::2::3',
      '12345::',
      '1:2:3:4:5:6:7:8:9',
      'g::1',
      'fe80::1%eth0',
    ]) {
      expect(parseIp(bad), bad).toBeUndefined();
    }
  });
});

describe('parseIpRange / inRange', () => {
  it('takes a CIDR or a single address', () => {
    const net = parseIpRange('10.0.0.0/8');
    expect(net).toBeDefined();
    const ip = (s: string) => parseIp(s) ?? expect.unreachable(s);
    if (!net) return;
    expect(inRange(ip('10.255.1.2'), net)).toBe(true);
    expect(inRange(ip('11.0.0.1'), net)).toBe(false);
    expect(inRange(ip('::ffff:10.1.1.1'), net)).toBe(true);
    const one = parseIpRange('192.168.1.7');
    if (!one) return expect.unreachable();
    expect(inRange(ip('192.168.1.7'), one)).toBe(true);
    expect(inRange(ip('192.168.1.8'), one)).toBe(false);
    const v6 = parseIpRange('fd00::/8');
    if (!v6) return expect.unreachable();
    expect(inRange(ip('fd12:3456::1'), v6)).toBe(true);
    expect(inRange(ip('fe80::1'), v6)).toBe(false);
    expect(inRange(ip('10.0.0.1'), v6)).toBe(false);
    const odd = parseIpRange('172.16.0.0/12');
    if (!odd) return expect.unreachable();
    expect(inRange(ip('172.31.255.255'), odd)).toBe(true);
    expect(inRange(ip('172.32.0.0'), odd)).toBe(false);
    const all = parseIpRange('0.0.0.0/0');
    if (!all) return expect.unreachable();
    expect(inRange(ip('8.8.8.8'), all)).toBe(true);
  });

  it('refuses prefixes out of range and host bits after the prefix', () => {
    for (const bad of [
      '10.0.0.0/33',
      '10.0.0.0/-1',
      '10.0.0.0/',
      '10.0.0.1/8',
      'fd00::/129',
      '10.0.0.0/08',
      '*/8',
    ]) {
      expect(parseIpRange(bad), bad).toBeUndefined();
    }
  });
});

describe('parseTrustedProxies', () => {
  it('takes addresses, CIDRs and *, and names the entry it cannot read', () => {
    expect(parseTrustedProxies(['*']).any).toBe(true);
    expect(parseTrustedProxies(['10.0.0.0/8', '::1']).ranges).toHaveLength(2);
    expect(() => parseTrustedProxies(['10.0.0.0/8', 'ingress.local'])).toThrow(/"ingress\.local"/);
  });

  it('is what FORWARDED_ALLOW_IPS accepts (uvicorn: addresses, CIDRs or *)', () => {
    expect(readEnv({ FORWARDED_ALLOW_IPS: '10.0.0.0/8, 127.0.0.1,fd00::/8' }).forwardedAllowIps).toEqual([
      '10.0.0.0/8',
      '127.0.0.1',
      'fd00::/8',
    ]);
    expect(() => readEnv({ FORWARDED_ALLOW_IPS: '10.0.0.0/40' })).toThrow(/FORWARDED_ALLOW_IPS/);
  });
});

describe('isLoopbackUrl', () => {
  it('recognises localhost, 127/8 and ::1 but not service names', () => {
    for (const u of [
      'http://localhost:11434',
      'http://127.0.0.1:1',
      'http://127.1.2.3',
      'http://[::1]:11434',
      'http://0.0.0.0:11434',
      'http://localhost.:11434',
      'http://[::ffff:127.0.0.1]:11434',
      'http://2130706433:11434',
      'http://api.localhost',
      'http://127.8.0.3',
    ])
      expect(isLoopbackUrl(u), u).toBe(true);
    for (const u of [
      'http://ollama.ollama.svc:11434',
      'http://10.0.0.5:11434',
      'https://ollama.example.com',
      'http://[::ffff:10.0.0.5]:11434',
      'http://host.docker.internal:11434',
      'http://128.0.0.1',
    ])
      expect(isLoopbackUrl(u), u).toBe(false);
  });
});
