/**
 * Writes the informer caches have not shown yet. A reconcile that runs before the watch delivered
 * our last write would see the old object and write again; instead it trusts the write, as long
 * as the cache still shows the resourceVersion it had before that write. A watch event of the
 * object (the cache moved on) forgets the entry.
 */
import type { KubernetesObject } from '@kubernetes/client-node';
import type { WebUIStatus } from '../api/v1alpha1/webui.ts';
import type { ChildKind } from './child-kinds.ts';

/** One write per key, valid while the cache shows `before`. */
class PendingWrites<T> {
  private readonly entries = new Map<string, { before: string; value: T }>();

  remember(key: string, before: string, value: T): void {
    this.entries.set(key, { before, value });
  }

  /** The write, while the cache still shows the version from before it; else the entry goes. */
  since(key: string, cachedVersion: string): T | undefined {
    const e = this.entries.get(key);
    if (e?.before === cachedVersion) return e.value;
    this.entries.delete(key);
    return undefined;
  }

  forget(key: string): void {
    this.entries.delete(key);
  }
}

/** An applied child: the hash of what was applied and what the API server returned. */
export interface AppliedChild {
  hash: string;
  result: KubernetesObject;
}

const childKey = (kind: ChildKind, namespace: string, name: string) => `${kind}/${namespace}/${name}`;
const webuiKey = (namespace: string, name: string) => `${namespace}/${name}`;

export class ReadYourWrites {
  private readonly children = new PendingWrites<AppliedChild>();
  private readonly statuses = new PendingWrites<WebUIStatus>();

  rememberApply(
    kind: ChildKind,
    namespace: string,
    name: string,
    before: string,
    applied: AppliedChild,
  ): void {
    this.children.remember(childKey(kind, namespace, name), before, applied);
  }

  /** Our last apply of this child, while the cache (at `cachedVersion`) has not shown it. */
  appliedSince(
    kind: ChildKind,
    namespace: string,
    name: string,
    cachedVersion: string,
  ): AppliedChild | undefined {
    return this.children.since(childKey(kind, namespace, name), cachedVersion);
  }

  /** A watch event of the child, or its deletion: the cache is at least as new as our write. */
  forgetChild(kind: ChildKind, namespace: string, name: string): void {
    this.children.forget(childKey(kind, namespace, name));
  }

  rememberStatus(namespace: string, name: string, before: string, status: WebUIStatus): void {
    this.statuses.remember(webuiKey(namespace, name), before, status);
  }

  /** Our last status write of this WebUI, while the cache (at `cachedVersion`) has not shown it. */
  statusSince(namespace: string, name: string, cachedVersion: string): WebUIStatus | undefined {
    return this.statuses.since(webuiKey(namespace, name), cachedVersion);
  }

  /** The cache has a newer WebUI than our last status write saw. */
  forgetStatus(namespace: string, name: string): void {
    this.statuses.forget(webuiKey(namespace, name));
  }
}
