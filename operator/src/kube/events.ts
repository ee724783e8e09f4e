/** Records core v1 Events about any object, as the operator (source and reporting component). */
import { FIELD_MANAGER } from '../render/meta.ts';
import { collectionPath } from './resources.ts';
import type { KubeTransport } from './rest.ts';

export type EventType = 'Normal' | 'Warning';

/** The object an Event is about. */
export interface InvolvedObject {
  apiVersion: string;
  kind: string;
  name: string;
  namespace: string;
  uid?: string;
}

/** Creates one Event in the object's namespace; the message is cut to the API's 1 KiB limit. */
export async function recordEvent(
  client: KubeTransport,
  reportingInstance: string,
  about: InvolvedObject,
  type: EventType,
  reason: string,
  message: string,
): Promise<void> {
  const now = new Date().toISOString();
  await client.request('POST', collectionPath('Event', about.namespace), {
    body: {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: { generateName: `${about.name}.`, namespace: about.namespace },
      involvedObject: {
        apiVersion: about.apiVersion,
        kind: about.kind,
        name: about.name,
        namespace: about.namespace,
        ...(about.uid ? { uid: about.uid } : {}),
      },
      type,
      reason,
      message: message.slice(0, 1024),
      source: { component: FIELD_MANAGER },
      reportingComponent: FIELD_MANAGER,
      reportingInstance,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    },
  });
}
