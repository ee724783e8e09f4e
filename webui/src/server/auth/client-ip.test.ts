import { describe, expect, it } from 'vitest';
import { clientIp, forwardedPrefix, viaHttps } from './client-ip.ts';

describe('clientIp', () => {
  it('ignores X-Forwarded-For from an untrusted peer', () => {
    expect(clientIp('203.0.113.9', '1.2.3.4', ['127.0.0.1'])).toBe('203.0.113.9');
  });

  it("takes the trusted proxy's own (last) entry, not what the client wrote before it", () => {
    expect(clientIp('::ffff:127.0.0.1', 'spoofed, 198.51.100.7', ['127.0.0.1'])).toBe('198.51.100.7');
    expect(clientIp('10.1.2.3', '198.51.100.7', ['*'])).toBe('198.51.100.7');
  });

  it('falls back to the peer without a header', () => {
    expect(clientIp('::ffff:10.0.0.1', undefined, ['*'])).toBe('10.0.0.1');
  });
});

describe('viaHttps', () => {
  it('believes X-Forwarded-Proto only from a trusted proxy', () => {
    expect(viaHttps(false, '127.0.0.1', 'https', ['127.0.0.1'])).toBe(true);
    expect(viaHttps(false, '203.0.113.9', 'https', ['127.0.0.1'])).toBe(false);
    expect(viaHttps(false, '127.0.0.1', 'http', ['127.0.0.1'])).toBe(false);
    expect(viaHttps(true, '203.0.113.9', undefined, [])).toBe(true);
  });
});

describe('forwardedPrefix', () => {
  it('believes X-Forwarded-Prefix only from a trusted peer, and only a plain path', () => {
    expect(forwardedPrefix('10.0.0.5', '/chat/', ['*'])).toBe('/chat');
    expect(forwardedPrefix('10.0.0.5', '/chat', ['10.0.0.5'])).toBe('/chat');
    expect(forwardedPrefix('10.0.0.6', '/chat', ['10.0.0.5'])).toBe('');
    expect(forwardedPrefix('10.0.0.5', undefined, ['*'])).toBe('');
    expect(forwardedPrefix('10.0.0.5', '/a; Domain=evil', ['*'])).toBe('');
    expect(forwardedPrefix('10.0.0.5', '/', ['*'])).toBe('');
  });
});
