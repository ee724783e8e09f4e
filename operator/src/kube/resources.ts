/** REST paths of the kinds the operator reads, writes and watches. */
import { GROUP, PLURAL, VERSION } from '../api/v1alpha1/webui.ts';

export interface Resource {
  /** "" for the core group's /api/v1, otherwise /apis/<group>/<version>. */
  prefix: string;
  plural: string;
}

export const RESOURCES = {
  WebUI: { prefix: `/apis/${GROUP}/${VERSION}`, plural: PLURAL },
  Deployment: { prefix: '/apis/apps/v1', plural: 'deployments' },
  Service: { prefix: '/api/v1', plural: 'services' },
  Secret: { prefix: '/api/v1', plural: 'secrets' },
  ConfigMap: { prefix: '/api/v1', plural: 'configmaps' },
  PersistentVolumeClaim: { prefix: '/api/v1', plural: 'persistentvolumeclaims' },
  Ingress: { prefix: '/apis/networking.k8s.io/v1', plural: 'ingresses' },
  PodDisruptionBudget: { prefix: '/apis/policy/v1', plural: 'poddisruptionbudgets' },
  NetworkPolicy: { prefix: '/apis/networking.k8s.io/v1', plural: 'networkpolicies' },
  Pod: { prefix: '/api/v1', plural: 'pods' },
  Event: { prefix: '/api/v1', plural: 'events' },
  Lease: { prefix: '/apis/coordination.k8s.io/v1', plural: 'leases' },
} as const satisfies Record<string, Resource>;

export type ResourceKind = keyof typeof RESOURCES;

const seg = (s: string) => encodeURIComponent(s);

/** The collection path: namespaced when ns is given, across all namespaces otherwise. */
export function collectionPath(kind: ResourceKind, ns?: string): string {
  const r = RESOURCES[kind];
  return ns ? `${r.prefix}/namespaces/${seg(ns)}/${r.plural}` : `${r.prefix}/${r.plural}`;
}

export function objectPath(kind: ResourceKind, ns: string, name: string, sub?: 'status'): string {
  return `${collectionPath(kind, ns)}/${seg(name)}${sub ? `/${sub}` : ''}`;
}

export function isResourceKind(kind: string): kind is ResourceKind {
  return Object.hasOwn(RESOURCES, kind);
}
