import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, flatLineLogger } from './logger.ts';

describe('logger redaction', () => {
  it('censors secrets at the top level and one level down', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += String(chunk);
        cb();
      },
    });
    const log = createLogger('info', sink);
    log.info(
      {
        password: 'hunter2',
        token: 'tok-123',
        req: { headers: { authorization: 'Bearer abc', cookie: 'token=xyz' } },
        body: { password: 'p2' },
      },
      'x',
    );
    expect(out).toContain('[redacted]');
    for (const secret of ['hunter2', 'tok-123', 'Bearer abc', 'token=xyz', 'p2"'])
      expect(out).not.toContain(secret);
  });

  it('censors the same top-level keys on the flat-line logger of the request log', () => {
    let out = '';
    const sink = new Writable({
      write(chunk, _enc, cb) {
        out += String(chunk);
        cb();
      },
    });
    const log = flatLineLogger(createLogger('info', sink));
    log.info(
      { path: '/api/x', password: 'hunter2', token: 'tok-123', authorization: 'Bearer abc' },
      'request',
    );
    expect(out).toContain('"path":"/api/x"');
    expect(out).toContain('[redacted]');
    for (const secret of ['hunter2', 'tok-123', 'Bearer abc']) expect(out).not.toContain(secret);
  });
});
