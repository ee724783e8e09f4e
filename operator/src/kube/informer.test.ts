import type { KubernetesObject } from '@kubernetes/client-node';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { KubeApiError } from './errors.ts';
import { type EventType, Informer, type ListPage, type ListQuery, type WatchFn } from './informer.ts';

type Obj = KubernetesObject;
const obj = (name: string, rv: string, uid = `uid-${name}`): Obj => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv, uid },
});

interface OpenWatch {
  query: Record<string, unknown>;
  send(type: string, o: unknown): void;
  end(err: unknown): void;
}

/**
 * A scripted API: list results in order (an Error in the script is thrown by that list), and
 * watches the test drives by hand; `onOpen` may answer each new watch at once.
 */
function fakeApi(lists: (ListPage<Obj> | Error)[], onOpen?: (w: OpenWatch) => void) {
  const watches: OpenWatch[] = [];
  const listCalls: number[] = [];
  const listQueries: ListQuery[] = [];
  let waiter: (() => void) | undefined;
  const watch: WatchFn = async (_path, query, onEvent, done) => {
    const ctrl = new AbortController();
    let ended = false;
    const end = (err: unknown) => {
      if (ended) return;
      ended = true;
      done(err);
    };
    ctrl.signal.addEventListener('abort', () =>
      end(Object.assign(new Error('aborted'), { name: 'AbortError' })),
    );
    const w = { query, send: onEvent, end };
    watches.push(w);
    waiter?.();
    // setImmediate, not a microtask: a client that loops must still let timers run.
    if (onOpen) setImmediate(() => onOpen(w));
    return ctrl;
  };
  return {
    watch,
    watches,
    listCalls,
    listQueries,
    list: async (q: ListQuery) => {
      listCalls.push(Date.now());
      listQueries.push(q);
      const next = lists.shift();
      if (!next) throw new Error('list failed');
      if (next instanceof Error) throw next;
      return next;
    },
    nextWatch(n: number): Promise<OpenWatch> {
      return new Promise((resolve) => {
        const check = () => {
          const w = watches[n];
          if (w) resolve(w);
          else waiter = check;
        };
        check();
      });
    },
  };
}

function start(api: ReturnType<typeof fakeApi>) {
  const events: string[] = [];
  const inf = new Informer<Obj>({
    resource: 'things',
    watchPath: '/api/v1/things',
    list: api.list,
    watch: api.watch,
    backoff: { baseMs: 1, capMs: 2 },
    onChange: (t: EventType, o) => events.push(`${t} ${o.metadata?.name}@${o.metadata?.resourceVersion}`),
  });
  inf.start();
  return { inf, events };
}

describe('Informer', () => {
  it('lists, then watches from the list resourceVersion with bookmarks', async () => {
    const api = fakeApi([{ items: [obj('a', '5')], resourceVersion: '10' }]);
    const { inf, events } = start(api);
    const w = await api.nextWatch(0);
    expect(inf.hasSynced()).toBe(true);
    expect(w.query).toMatchObject({ resourceVersion: '10', allowWatchBookmarks: true });
    w.send('ADDED', obj('b', '11'));
    w.send('MODIFIED', obj('a', '12'));
    w.send('DELETED', obj('b', '13'));
    expect(events).toEqual(['add a@5', 'add b@11', 'update a@12', 'delete b@13']);
    expect(inf.get('ns', 'a')?.metadata?.resourceVersion).toBe('12');
    expect(inf.get('ns', 'b')).toBeUndefined();
    await inf.stop();
  });

  it('passes its label and field selectors to the watch', async () => {
    const api = fakeApi([{ items: [], resourceVersion: '1' }]);
    const inf = new Informer<Obj>({
      resource: 'one-thing',
      watchPath: '/api/v1/namespaces/ns/things',
      labelSelector: 'a=b',
      fieldSelector: 'metadata.name=x',
      list: api.list,
      watch: api.watch,
      onChange: () => {},
    });
    inf.start();
    const w = await api.nextWatch(0);
    expect(w.query).toMatchObject({ labelSelector: 'a=b', fieldSelector: 'metadata.name=x' });
    await inf.stop();
  });

  it('resumes from the last bookmark after a normal close, without relisting', async () => {
    const api = fakeApi([{ items: [], resourceVersion: '10' }]);
    const { inf } = start(api);
    const w = await api.nextWatch(0);
    w.send('BOOKMARK', { metadata: { resourceVersion: '42' } });
    w.end(null);
    const w2 = await api.nextWatch(1);
    expect(w2.query.resourceVersion).toBe('42');
    expect(api.listCalls).toHaveLength(1);
    await inf.stop();
  });

  it('relists on 410 Gone and reports what changed meanwhile', async () => {
    const api = fakeApi([
      { items: [obj('a', '5'), obj('b', '6')], resourceVersion: '10' },
      { items: [obj('a', '20'), obj('c', '21')], resourceVersion: '22' },
    ]);
    const { inf, events } = start(api);
    const w = await api.nextWatch(0);
    events.length = 0;
    w.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    const w2 = await api.nextWatch(1);
    expect(w2.query.resourceVersion).toBe('22');
    expect(events.sort()).toEqual(['add c@21', 'delete b@6', 'update a@20']);
    await inf.stop();
  });

  it('relists when the watch request itself is answered 410 Gone', async () => {
    const api = fakeApi([
      { items: [obj('a', '5')], resourceVersion: '6' },
      { items: [obj('a', '9')], resourceVersion: '10' },
    ]);
    const { inf, events } = start(api);
    const w = await api.nextWatch(0);
    events.length = 0;
    w.end(new KubeApiError(410, { reason: 'Expired', message: 'too old resource version: 6 (8)' }));
    const w2 = await api.nextWatch(1);
    expect(w2.query.resourceVersion).toBe('10');
    expect(events).toEqual(['update a@9']);
    await inf.stop();
  });

  it('keeps retrying after errors, including failed lists, and never stops by itself', async () => {
    const api = fakeApi([{ items: [], resourceVersion: '1' }]);
    const { inf } = start(api);
    const w = await api.nextWatch(0);
    w.end(new KubeApiError(500, { reason: 'InternalError', message: 'Internal Server Error' }));
    const w2 = await api.nextWatch(1);
    expect(w2.query.resourceVersion).toBe('1');
    // A 410 now needs a list, which fails once (the scripted lists ran out), then succeeds.
    w2.send('ERROR', { code: 410 });
    await new Promise((r) => setTimeout(r, 20));
    expect(api.listCalls.length).toBeGreaterThan(1);
    expect(api.watches).toHaveLength(2);
    await inf.stop();
  });
});

/** An informer over `api` with the given backoff and no jitter (random 0.5 is the middle). */
function startWithBackoff(api: ReturnType<typeof fakeApi>, backoff = { baseMs: 1000, capMs: 30_000 }) {
  const inf = new Informer<Obj>({
    resource: 'things',
    watchPath: '/api/v1/things',
    list: api.list,
    watch: api.watch,
    backoff,
    random: () => 0.5,
    onChange: () => {},
  });
  inf.start();
  return inf;
}

/** What the fake-timer tests fake (setImmediate too: the fake API answers new watches with it). */
const FAKED: ('setTimeout' | 'clearTimeout' | 'setInterval' | 'clearInterval' | 'setImmediate' | 'Date')[] = [
  'setTimeout',
  'clearTimeout',
  'setInterval',
  'clearInterval',
  'setImmediate',
  'Date',
];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (code: number, reason: string) => ({ kind: 'Status', status: 'Failure', code, reason });

describe('Informer under API faults', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('backs off after a watch ERROR event that is not 410 (tight loop 1)', async () => {
    // Every watch is answered with one ERROR event at once, as a failing API server does.
    const api = fakeApi([{ items: [], resourceVersion: '1' }], (w) =>
      w.send('ERROR', status(500, 'InternalError')),
    );
    const inf = startWithBackoff(api);
    await sleep(200);
    // Before the fix: the ERROR aborted the watch, the abort counted as a normal close, and
    // the watch reopened at once (215 watches in 200 ms with a 1 s backoff).
    expect(api.watches).toHaveLength(1);
    expect(api.listCalls).toHaveLength(1);
    await inf.stop();
  });

  it('backs off after a watch that the server closes at once with no events (tight loop 2)', async () => {
    const api = fakeApi([{ items: [], resourceVersion: '1' }], (w) => w.end(null));
    const inf = startWithBackoff(api);
    await sleep(200);
    // Before the fix: 2,610 reopenings in 200 ms.
    expect(api.watches).toHaveLength(1);
    await inf.stop();
  });

  it('grows the backoff while the failures go on, up to its cap', async () => {
    vi.useFakeTimers({ toFake: FAKED });
    const opened: number[] = [];
    const t0 = Date.now();
    const api = fakeApi([{ items: [], resourceVersion: '1' }], (w) => {
      opened.push(Date.now() - t0);
      w.send('ERROR', status(500, 'InternalError'));
    });
    const inf = startWithBackoff(api, { baseMs: 1000, capMs: 8000 });
    await vi.advanceTimersByTimeAsync(40_000);
    // To 10 ms: the fake setImmediate that answers each watch takes a fake millisecond.
    const gaps = opened.slice(1).map((t, i) => Math.round((t - (opened[i] ?? 0)) / 10) * 10);
    expect(gaps.slice(0, 6)).toEqual([1000, 2000, 4000, 8000, 8000, 8000]);
    await inf.stop();
  });

  it('also backs off a relist after 410 Gone, so a flapping watch cannot loop through lists', async () => {
    vi.useFakeTimers({ toFake: FAKED });
    const lists = Array.from({ length: 50 }, (_, i) => ({ items: [], resourceVersion: String(i + 1) }));
    const api = fakeApi(lists, (w) => w.send('ERROR', status(410, 'Expired')));
    const inf = startWithBackoff(api, { baseMs: 1000, capMs: 30_000 });
    await vi.advanceTimersByTimeAsync(60_000);
    // 1 s, 2 s, 4 s, 8 s, 16 s, then 30 s: at most 6 relists after the first list in a minute.
    expect(api.listCalls.length).toBeGreaterThanOrEqual(6);
    expect(api.listCalls.length).toBeLessThanOrEqual(7);
    await inf.stop();
  });

  /** `count()` stays put until the 5 s Retry-After passed (the backoff alone is 1 s), then grows by one. */
  async function expectRetryAfterFiveSeconds(count: () => number): Promise<void> {
    const before = count();
    await vi.advanceTimersByTimeAsync(4_900);
    expect(count()).toBe(before);
    await vi.advanceTimersByTimeAsync(200);
    expect(count()).toBe(before + 1);
  }
  const throttled = () => new KubeApiError(429, { reason: 'TooManyRequests', message: 'slow down' }, 5);

  it.each([
    ['a 429 answer to the watch', (w: OpenWatch) => w.end(throttled())],
    [
      'a 429 ERROR event',
      (w: OpenWatch) =>
        w.send('ERROR', { ...status(429, 'TooManyRequests'), details: { retryAfterSeconds: 5 } }),
    ],
  ])('waits out the Retry-After of %s', async (_what, throttle) => {
    vi.useFakeTimers({ toFake: FAKED });
    const api = fakeApi([{ items: [], resourceVersion: '1' }]);
    const inf = startWithBackoff(api);
    throttle(await api.nextWatch(0));
    await expectRetryAfterFiveSeconds(() => api.watches.length);
    await inf.stop();
  });

  it("waits out the Retry-After of a list's 429", async () => {
    vi.useFakeTimers({ toFake: FAKED });
    const api = fakeApi([throttled(), { items: [], resourceVersion: '1' }]);
    const inf = startWithBackoff(api);
    await vi.advanceTimersByTimeAsync(0);
    await expectRetryAfterFiveSeconds(() => api.listCalls.length);
    await inf.stop();
  });

  it('reopens at once after a watch that ran normally (a bounded watch ending is no failure)', async () => {
    const api = fakeApi([{ items: [], resourceVersion: '1' }]);
    const inf = startWithBackoff(api);
    for (let i = 0; i < 5; i++) {
      const w = await api.nextWatch(i);
      w.send('BOOKMARK', { metadata: { resourceVersion: String(10 + i) } });
      w.end(null);
    }
    expect((await api.nextWatch(5)).query.resourceVersion).toBe('14');
    await inf.stop();
  });
});

describe('Informer relists', () => {
  it('lists from the watch cache: any version at start, not older than what it saw after 410', async () => {
    const api = fakeApi([
      { items: [obj('a', '5')], resourceVersion: '10' },
      new KubeApiError(410, { reason: 'Expired', message: 'too old resource version' }),
      { items: [obj('a', '30')], resourceVersion: '31' },
    ]);
    const { inf } = start(api);
    const w = await api.nextWatch(0);
    w.send('BOOKMARK', { metadata: { resourceVersion: '20' } });
    w.send('ERROR', { kind: 'Status', code: 410, reason: 'Expired' });
    await api.nextWatch(1);
    expect(api.listQueries).toEqual([
      // The first list takes whatever the API server's watch cache holds (no etcd read).
      { limit: 500, resourceVersion: '0' },
      // After 410: still from the cache, but never older than the last version seen.
      { limit: 500, resourceVersion: '20', resourceVersionMatch: 'NotOlderThan' },
      // The cache could not serve that either: a consistent list.
      { limit: 500 },
    ]);
    await inf.stop();
  });
});
