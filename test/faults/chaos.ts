// Which fault the fault proxy (fault-proxy.ts) injects into each request while it plays a
// misbehaving API server, and how the operator's requests are measured meanwhile. Pure: a seeded
// random source makes a run repeatable.

/** How a watch that was forwarded for a while is cut: an ERROR event, or the stream just ends. */
export type WatchCut = { kind: 'error'; code: 500 | 410 } | { kind: 'close' };

export type Fault =
  | { kind: 'forward' }
  /** Forward a watch, then cut it after `afterMs`. */
  | { kind: 'forward-then-cut'; afterMs: number; cut: WatchCut }
  | { kind: 'status'; code: 500 }
  /** 429 with Retry-After (the header, and details.retryAfterSeconds in the Status). */
  | { kind: 'throttle'; retryAfterSeconds: number }
  /** Never answer, until the proxy heals. */
  | { kind: 'stall' }
  /** A 200 watch whose first line is an ERROR event, then the end. */
  | { kind: 'watch-error'; code: 500 | 410 }
  /** A 200 watch that ends at once, with no event. */
  | { kind: 'watch-close' };

export interface ProxiedRequest {
  method: string;
  path: string;
  watch: boolean;
}

export type ChaosPlan = (req: ProxiedRequest) => Fault;

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Picks by weight: `choices` are [weight, value] pairs, `r` in [0, 1). */
function weighted<T>(r: number, choices: readonly [number, () => T][]): T {
  const total = choices.reduce((sum, [w]) => sum + w, 0);
  let x = r * total;
  for (const [w, make] of choices) {
    if (x < w) return make();
    x -= w;
  }
  const last = choices.at(-1);
  if (!last) throw new Error('weighted: no choices');
  return last[1]();
}

/**
 * Every kind of fault at once. Watches: 60 % fail at once (ERROR events, instant closes, 500s,
 * 429s, stalls), the rest are forwarded and cut after 1 to 5 s, so no watch settles down.
 * Other requests: 35 % fail (500s, 429s, stalls).
 */
export function everyFault(random: () => number): ChaosPlan {
  const retryAfter = () => 1 + Math.floor(random() * 3);
  const code = (): 500 | 410 => (random() < 0.75 ? 500 : 410);
  return (req) =>
    req.watch
      ? weighted<Fault>(random(), [
          [15, () => ({ kind: 'watch-error', code: 500 })],
          [5, () => ({ kind: 'watch-error', code: 410 })],
          [15, () => ({ kind: 'watch-close' })],
          [10, () => ({ kind: 'status', code: 500 })],
          [10, () => ({ kind: 'throttle', retryAfterSeconds: retryAfter() })],
          [5, () => ({ kind: 'stall' })],
          [
            40,
            () => ({
              kind: 'forward-then-cut',
              afterMs: 1000 + Math.floor(random() * 4000),
              cut: random() < 0.5 ? { kind: 'error', code: code() } : { kind: 'close' },
            }),
          ],
        ])
      : weighted<Fault>(random(), [
          [15, () => ({ kind: 'status', code: 500 })],
          [15, () => ({ kind: 'throttle', retryAfterSeconds: retryAfter() })],
          [5, () => ({ kind: 'stall' })],
          [65, () => ({ kind: 'forward' })],
        ]);
}

/** The most of `times` (ms, any order) that fall in any window of `windowMs`. */
export function maxInWindow(times: readonly number[], windowMs: number): number {
  const sorted = [...times].sort((a, b) => a - b);
  let most = 0;
  let start = 0;
  for (let end = 0; end < sorted.length; end++) {
    while ((sorted[end] ?? 0) - (sorted[start] ?? 0) >= windowMs) start++;
    most = Math.max(most, end - start + 1);
  }
  return most;
}

/**
 * The ceiling a token bucket of `qps` and `burst` puts on requests in any window of `seconds`.
 * `slackMs` widens the window for the time between a request leaving the client and reaching
 * the proxy that counts it.
 */
export function tokenBucketCeiling(qps: number, burst: number, seconds: number, slackMs = 100): number {
  return Math.floor(burst + qps * (seconds + slackMs / 1000));
}
