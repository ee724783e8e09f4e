// The dev cluster's volume provisioner: binds every PersistentVolumeClaim of the default StorageClass
// to a new `local` PersistentVolume in a directory under the node's root, and deletes released ones.
//
// Why not kube-controller-manager's hostpath provisioner: it makes `hostPath` volumes, and the kubelet
// applies no fsGroup to hostPath, so the WebUI (uid 10001, fsGroup 10001, non-root) could not write
// its data directory. `local` volumes get fsGroup ownership like the block volumes of a real cloud,
// so the pod security context is tested as users will run it.
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { get, send, sleep, type TlsClientOptions } from '../probe.ts';
import { PROVISIONER } from './config.ts';

interface ObjectMeta {
  name: string;
  namespace?: string;
  uid: string;
  annotations?: Record<string, string>;
}

interface Claim {
  metadata: ObjectMeta;
  spec: {
    storageClassName?: string;
    volumeName?: string;
    accessModes?: string[];
    volumeMode?: string;
    resources?: { requests?: { storage?: string } };
  };
  status?: { phase?: string };
}

interface Volume {
  metadata: ObjectMeta;
  spec: { persistentVolumeReclaimPolicy?: string; local?: { path: string } };
  status?: { phase?: string };
}

export interface ProvisionerOptions {
  server: string;
  tls: TlsClientOptions;
  storageClass: string;
  nodeName: string;
  /** Volumes are directories under this path. */
  volumeDir: string;
  pollMs?: number;
}

/** The PersistentVolume for a claim: pure, so its shape is unit-tested. */
export function volumeFor(
  claim: Claim,
  o: Pick<ProvisionerOptions, 'storageClass' | 'nodeName' | 'volumeDir'>,
) {
  return {
    apiVersion: 'v1',
    kind: 'PersistentVolume',
    metadata: {
      name: `pvc-${claim.metadata.uid}`,
      annotations: { 'pv.kubernetes.io/provisioned-by': PROVISIONER },
    },
    spec: {
      capacity: { storage: claim.spec.resources?.requests?.storage ?? '1Gi' },
      accessModes: claim.spec.accessModes ?? ['ReadWriteOnce'],
      volumeMode: claim.spec.volumeMode ?? 'Filesystem',
      persistentVolumeReclaimPolicy: 'Delete',
      storageClassName: o.storageClass,
      local: { path: join(o.volumeDir, claim.metadata.uid) },
      claimRef: {
        apiVersion: 'v1',
        kind: 'PersistentVolumeClaim',
        namespace: claim.metadata.namespace,
        name: claim.metadata.name,
        uid: claim.metadata.uid,
      },
      nodeAffinity: {
        required: {
          nodeSelectorTerms: [
            { matchExpressions: [{ key: 'kubernetes.io/hostname', operator: 'In', values: [o.nodeName] }] },
          ],
        },
      },
    },
  };
}

export function needsVolume(claim: Claim, storageClass: string, existing: Set<string>): boolean {
  return (
    claim.spec.storageClassName === storageClass &&
    !claim.spec.volumeName &&
    claim.status?.phase === 'Pending' &&
    !existing.has(`pvc-${claim.metadata.uid}`)
  );
}

/** Runs until stop() is called. Errors are logged and retried at the next poll. */
export function startProvisioner(
  o: ProvisionerOptions,
  log: (line: string) => void,
): { stop(): Promise<void> } {
  let running = true;
  const list = async <T>(path: string): Promise<T[]> => {
    const r = await get(`${o.server}${path}`, o.tls, 10_000);
    if (r.status !== 200) throw new Error(`GET ${path}: ${r.status} ${r.body.slice(0, 200)}`);
    return (JSON.parse(r.body) as { items: T[] }).items;
  };
  const pass = async () => {
    const volumes = await list<Volume>('/api/v1/persistentvolumes');
    const ours = volumes.filter(
      (v) => v.metadata.annotations?.['pv.kubernetes.io/provisioned-by'] === PROVISIONER,
    );
    const names = new Set(volumes.map((v) => v.metadata.name));
    for (const claim of await list<Claim>('/api/v1/persistentvolumeclaims')) {
      if (!needsVolume(claim, o.storageClass, names)) continue;
      const pv = volumeFor(claim, o);
      mkdirSync(pv.spec.local.path, { recursive: true, mode: 0o755 });
      const r = await send(
        'POST',
        `${o.server}/api/v1/persistentvolumes`,
        JSON.stringify(pv),
        'application/json',
        o.tls,
      );
      if (r.status !== 201 && r.status !== 409)
        throw new Error(`creating ${pv.metadata.name}: ${r.status} ${r.body.slice(0, 300)}`);
      log(`provisioned ${pv.metadata.name} for ${claim.metadata.namespace}/${claim.metadata.name}`);
    }
    for (const v of ours) {
      if (v.status?.phase !== 'Released' || v.spec.persistentVolumeReclaimPolicy !== 'Delete') continue;
      if (v.spec.local?.path?.startsWith(`${o.volumeDir}/`))
        rmSync(v.spec.local.path, { recursive: true, force: true });
      const r = await send(
        'DELETE',
        `${o.server}/api/v1/persistentvolumes/${v.metadata.name}`,
        '',
        'application/json',
        o.tls,
      );
      if (r.status !== 200 && r.status !== 404) throw new Error(`deleting ${v.metadata.name}: ${r.status}`);
      log(`deleted released ${v.metadata.name}`);
    }
  };
  const loop = (async () => {
    while (running) {
      try {
        await pass();
      } catch (err) {
        if (running) log(`provisioner: ${err instanceof Error ? err.message : err}`);
      }
      await sleep(o.pollMs ?? 1000);
    }
  })();
  return {
    async stop() {
      running = false;
      await loop;
    },
  };
}
