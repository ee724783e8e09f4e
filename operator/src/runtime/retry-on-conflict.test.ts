import { ApiException } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { retryOnConflict } from './retry-on-conflict.ts';

const conflict = () =>
  new ApiException(409, 'Conflict', JSON.stringify({ kind: 'Status', reason: 'Conflict', code: 409 }), {});
const forbidden = () =>
  new ApiException(403, 'Forbidden', JSON.stringify({ reason: 'Forbidden', code: 403 }), {});

describe('retryOnConflict', () => {
  it('retries 409 until the write succeeds', async () => {
    let calls = 0;
    const seen: number[] = [];
    const result = await retryOnConflict(
      async () => {
        calls += 1;
        if (calls < 3) throw conflict();
        return 'applied';
      },
      { baseDelayMs: 1, onConflict: (n) => seen.push(n) },
    );
    expect(result).toBe('applied');
    expect(calls).toBe(3);
    expect(seen).toEqual([1, 2]);
  });

  it('gives up after the attempts and throws the conflict', async () => {
    let calls = 0;
    await expect(
      retryOnConflict(
        async () => {
          calls += 1;
          throw conflict();
        },
        { attempts: 4, baseDelayMs: 1 },
      ),
    ).rejects.toMatchObject({ code: 409 });
    expect(calls).toBe(4);
  });

  it('does not retry other failures', async () => {
    let calls = 0;
    await expect(
      retryOnConflict(async () => {
        calls += 1;
        throw forbidden();
      }),
    ).rejects.toMatchObject({ code: 403 });
    expect(calls).toBe(1);
  });
});
