// Retries a write that the API server answered with 409 Conflict.
// A conflict is not a failure of the desired state: it only says the object
// moved while we wrote. The operator's writes are server-side applies without
// a resourceVersion, so sending the same intent again is correct; surfacing
// the conflict (a Warning event, Degraded=True, a backoff requeue) would report
// a problem that does not exist. After the attempts are used up the last error
// is thrown, and the caller treats it as any other failure.
import { Backoff, type BackoffPolicy, sleep } from '../kube/backoff.ts';
import { apiFailure } from '../kube/errors.ts';

/** 50 ms doubling, widely jittered: writers that collided should not collide again. */
export const CONFLICT_BACKOFF: BackoffPolicy = { baseMs: 50, capMs: 1000, jitter: 0.5, resetAfterMs: 0 };

export interface RetryOnConflictOptions {
  /** Total attempts, the first included. Default 5. */
  attempts?: number;
  /** CONFLICT_BACKOFF where unset. */
  backoff?: Partial<BackoffPolicy>;
  /** Called before each retry (logs, metrics). */
  onConflict?: (attempt: number, err: unknown) => void;
}

export async function retryOnConflict<T>(
  write: () => Promise<T>,
  opts: RetryOnConflictOptions = {},
): Promise<T> {
  const attempts = opts.attempts ?? 5;
  const backoff = new Backoff({ ...CONFLICT_BACKOFF, ...opts.backoff });
  for (let attempt = 1; ; attempt++) {
    try {
      return await write();
    } catch (e) {
      if (apiFailure(e).code !== 409 || attempt >= attempts) throw e;
      opts.onConflict?.(attempt, e);
      await sleep(backoff.failed());
    }
  }
}
