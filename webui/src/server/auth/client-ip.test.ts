import { describe, expect, it } from 'vitest';
import { clientIp, forwardedHeaders, forwardedPrefix, viaHttps } from './client-ip.ts';

describe('clientIp', () => {
  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(clientIp('203.0.113.9', '1.2.3.4', ['127.0.0.1'])).toBe('203.0.113.9');
    expect(clientIp('203.0.113.9', '1.2.3.4', ['10.0.0.0/8'])).toBe('203.0.113.9');
  });

  it("takes the trusted proxy's own (last) entry, not what the client wrote before it", () => {
    expect(clientIp('::ffff:127.0.0.1', 'spoofed, 198.51.100.7', ['127.0.0.1'])).toBe('198.51.100.7');
    expect(clientIp('10.1.2.3', '198.51.100.7', ['*'])).toBe('198.51.100.7');
  });

  it('falls back to the peer without a header', () => {
    expect(clientIp('::ffff:10.0.0.1', undefined, ['*'])).toBe('10.0.0.1');
    expect(clientIp('10.0.0.1', ' , ', ['*'])).toBe('10.0.0.1');
  });

  // Issue 14, finding 2: ingress → frontend forwarder → backend. Each hop appends its peer; the client
  // is the rightmost address that is not a trusted proxy, not the last one (the ingress).
  it('takes the rightmost address that is not a trusted proxy (CIDRs allowed)', () => {
    const trusted = ['10.0.0.0/8', 'fd00::/8'];
    expect(clientIp('10.0.0.5', '198.51.100.7, 10.42.0.9', trusted)).toBe('198.51.100.7');
    expect(clientIp('10.0.0.5', '6.6.6.6, 198.51.100.7, 10.42.0.9', trusted)).toBe('198.51.100.7');
    expect(clientIp('fd00::5', '2001:db8::7, fd12::9', trusted)).toBe('2001:db8::7');
    // Every hop trusted: the client is itself inside the trusted network (uvicorn does the same).
    expect(clientIp('10.0.0.5', '10.9.9.9, 10.42.0.9', trusted)).toBe('10.9.9.9');
  });

  it('with * trusts any peer, but believes only the hop that peer appended', () => {
    expect(clientIp('10.0.0.5', '6.6.6.6, 198.51.100.7', ['*'])).toBe('198.51.100.7');
    expect(clientIp('10.0.0.5', '6.6.6.6, 198.51.100.7, 10.42.0.9', ['*', '10.0.0.0/8'])).toBe(
      '198.51.100.7',
    );
  });

  it('reads ports, brackets and mixed spellings the way proxies write them, canonically', () => {
    const trusted = ['10.0.0.0/8'];
    expect(clientIp('10.0.0.5', '198.51.100.7:53211', trusted)).toBe('198.51.100.7');
    expect(clientIp('10.0.0.5', '[2001:DB8:0::7]:443', trusted)).toBe('2001:db8::7');
    expect(clientIp('10.0.0.5', '::ffff:198.51.100.7', trusted)).toBe('198.51.100.7');
    expect(clientIp('::ffff:10.0.0.5', '198.51.100.7', trusted)).toBe('198.51.100.7');
  });

  it('stops at an entry that is not an address, and keeps it short', () => {
    expect(clientIp('10.0.0.5', 'unknown, 10.1.1.1', ['10.0.0.0/8'])).toBe('unknown');
    expect(clientIp('10.0.0.5', `${'x'.repeat(500)}`, ['10.0.0.0/8'])).toHaveLength(64);
  });
});

describe('forwardedHeaders (what the frontend forwarder passes on)', () => {
  const own = { proto: 'http', host: 'chat.internal:8080' };

  it('passes on the client it resolved with the same trust rules, as the only X-Forwarded-For entry', () => {
    const h = forwardedHeaders(
      '10.42.0.9',
      { for: '6.6.6.6, 198.51.100.7', proto: 'https', host: 'chat.example.com' },
      ['10.0.0.0/8'],
      own,
    );
    expect(h).toEqual({ for: '198.51.100.7', proto: 'https', host: 'chat.example.com' });
  });

  it('from an untrusted peer passes on the peer and its own view, never the headers the peer sent', () => {
    const h = forwardedHeaders(
      '203.0.113.9',
      { for: '1.2.3.4', proto: 'https', host: 'evil.example' },
      ['10.0.0.0/8'],
      own,
    );
    expect(h).toEqual({ for: '203.0.113.9', proto: 'http', host: 'chat.internal:8080' });
  });

  it('fills in what a trusted peer did not send', () => {
    expect(forwardedHeaders('::ffff:127.0.0.1', {}, ['127.0.0.1'], own)).toEqual({
      for: '127.0.0.1',
      proto: 'http',
      host: 'chat.internal:8080',
    });
  });
});

describe('viaHttps', () => {
  it('believes X-Forwarded-Proto only from a trusted proxy', () => {
    expect(viaHttps(false, '127.0.0.1', 'https', ['127.0.0.1'])).toBe(true);
    expect(viaHttps(false, '203.0.113.9', 'https', ['127.0.0.1'])).toBe(false);
    expect(viaHttps(false, '127.0.0.1', 'http', ['127.0.0.1'])).toBe(false);
    expect(viaHttps(true, '203.0.113.9', undefined, [])).toBe(true);
    expect(viaHttps(false, '10.3.0.1', 'https', ['10.0.0.0/8'])).toBe(true);
  });
});

describe('forwardedPrefix', () => {
  it('believes X-Forwarded-Prefix only from a trusted peer, and only a plain path', () => {
    expect(forwardedPrefix('10.0.0.5', '/chat/', ['*'])).toBe('/chat');
    expect(forwardedPrefix('10.0.0.5', '/chat', ['10.0.0.5'])).toBe('/chat');
    expect(forwardedPrefix('10.0.0.5', '/chat', ['10.0.0.0/24'])).toBe('/chat');
    expect(forwardedPrefix('10.0.0.6', '/chat', ['10.0.0.5'])).toBe('');
    expect(forwardedPrefix('10.0.0.5', undefined, ['*'])).toBe('');
    expect(forwardedPrefix('10.0.0.5', '/a; Domain=evil', ['*'])).toBe('');
    expect(forwardedPrefix('10.0.0.5', '/', ['*'])).toBe('');
  });
});
