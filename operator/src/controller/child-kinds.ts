/** The kinds the operator creates for a WebUI: applied, watched, owned and pruned the same way. */
export const CHILD_KINDS = [
  'Deployment',
  'Service',
  'Secret',
  'PersistentVolumeClaim',
  'Ingress',
  'PodDisruptionBudget',
  'NetworkPolicy',
] as const;

export type ChildKind = (typeof CHILD_KINDS)[number];

/**
 * Kinds that are created once and never written again. The only Secret the
 * operator makes is the generated session key, which must never change: so it
 * needs `create` but not `patch` on Secrets, and cannot alter any existing
 * Secret (issue 14, finding 5).
 */
export const CREATE_ONLY_KINDS: ReadonlySet<ChildKind> = new Set(['Secret']);

const CHILD_KIND_SET: ReadonlySet<string> = new Set(CHILD_KINDS);

export function isChildKind(kind: string | undefined): kind is ChildKind {
  return kind !== undefined && CHILD_KIND_SET.has(kind);
}
