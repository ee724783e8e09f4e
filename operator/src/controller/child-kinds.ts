/** The kinds the operator creates for a WebUI: applied, watched, owned and pruned the same way. */
export const CHILD_KINDS = [
  'Deployment',
  'Service',
  'Secret',
  'PersistentVolumeClaim',
  'Ingress',
  'PodDisruptionBudget',
] as const;

export type ChildKind = (typeof CHILD_KINDS)[number];

const CHILD_KIND_SET: ReadonlySet<string> = new Set(CHILD_KINDS);

export function isChildKind(kind: string | undefined): kind is ChildKind {
  return kind !== undefined && CHILD_KIND_SET.has(kind);
}
