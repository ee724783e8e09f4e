// Audit log support: a policy that records every write at Metadata level, and
// a reader for the JSON-lines log kube-apiserver writes. Tests count writes
// with it (for example, "a second reconcile of an unchanged object writes nothing").
import { readFile } from 'node:fs/promises';
import { stringify } from 'yaml';

export const AUDITED_VERBS = ['create', 'update', 'patch', 'delete', 'deletecollection'] as const;

/** The fields of an audit.k8s.io/v1 Event that tests use. */
export interface AuditEvent {
  auditID: string;
  stage: string;
  verb: string;
  requestURI: string;
  user: { username: string; groups?: string[] };
  userAgent?: string;
  objectRef?: {
    resource?: string;
    namespace?: string;
    name?: string;
    subresource?: string;
    apiGroup?: string;
    apiVersion?: string;
  };
  responseStatus?: { code?: number; reason?: string; message?: string };
  requestReceivedTimestamp: string;
  stageTimestamp?: string;
}

export function renderAuditPolicy(): string {
  return stringify({
    apiVersion: 'audit.k8s.io/v1',
    kind: 'Policy',
    // One event per request, written once the response is complete.
    omitStages: ['RequestReceived', 'ResponseStarted', 'Panic'],
    rules: [{ level: 'Metadata', verbs: [...AUDITED_VERBS] }, { level: 'None' }],
  });
}

/** Parses the JSON lines of an audit log; a partly written last line is ignored. */
export function parseAuditLog(text: string): AuditEvent[] {
  const events: AuditEvent[] = [];
  const lines = text.split('\n');
  lines.forEach((line, i) => {
    if (!line.trim()) return;
    try {
      events.push(JSON.parse(line) as AuditEvent);
    } catch (err) {
      if (i < lines.length - 1) throw new Error(`audit log line ${i + 1} is not JSON: ${String(err)}`);
    }
  });
  return events;
}

export async function readAuditLog(path: string): Promise<AuditEvent[]> {
  try {
    return parseAuditLog(await readFile(path, 'utf8'));
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw err;
  }
}
