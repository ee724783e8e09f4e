import { describe, expect, it } from 'vitest';
import { KubeApiError } from '../kube/errors.ts';
import { retryOnConflict } from './retry-on-conflict.ts';

const conflict = () => new KubeApiError(409, { kind: 'Status', reason: 'Conflict', code: 409 } as object);
const forbidden = () => new KubeApiError(403, { reason: 'Forbidden', code: 403 } as object);

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
      { backoff: { baseMs: 1 }, onConflict: (n) => seen.push(n) },
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
        { attempts: 4, backoff: { baseMs: 1 } },
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
