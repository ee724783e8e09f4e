import { describe, expect, it } from 'vitest';
import { endToEndHeaders } from './hop-by-hop.ts';

describe('endToEndHeaders', () => {
  it('drops hop-by-hop headers and those named by Connection', () => {
    expect(
      endToEndHeaders({
        connection: 'Upgrade, X-Custom',
        upgrade: 'websocket',
        'x-custom': '1',
        'transfer-encoding': 'chunked',
        'content-type': 'text/plain',
        'set-cookie': ['a=1', 'b=2'],
      }),
    ).toEqual({ 'content-type': 'text/plain', 'set-cookie': ['a=1', 'b=2'] });
  });
});
