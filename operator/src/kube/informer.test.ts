import type { KubernetesObject } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';
import { KubeApiError } from './errors.ts';
import { type EventType, Informer, type ListPage, type WatchFn } from './informer.ts';

type Obj = KubernetesObject;
const obj = (name: string, rv: string, uid = `uid-${name}`): Obj => ({
  metadata: { name, namespace: 'ns', resourceVersion: rv, uid },
});

interface OpenWatch {
  query: Record<string, unknown>;
  send(type: string, o: unknown): void;
  end(err: unknown): void;
}

/** A scripted API: list results in order, and watches the test drives by hand. */
function fakeApi(lists: ListPage<Obj>[]) {
  const watches: OpenWatch[] = [];
  const listCalls: number[] = [];
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
    watches.push({ query, send: onEvent, end });
    waiter?.();
    return ctrl;
  };
  return {
    watch,
    watches,
    listCalls,
    list: async () => {
      listCalls.push(Date.now());
      const next = lists.shift();
      if (!next) throw new Error('list failed');
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
    initialBackoffMs: 1,
    maxBackoffMs: 2,
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
