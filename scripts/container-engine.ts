/**
 * The container engines `make images` can drive (Docker, Podman, or daemonless Buildah) and the few
 * things it asks of them: does it work, what is image X (id, labels, size), run a command. Pure parts
 * take the engine's output as text; the functions that spawn are at the bottom.
 */
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';

export type EngineName = 'docker' | 'podman' | 'buildah';

/** In order of preference: an engine that is already set up (a daemon, a Podman install) wins. */
export const ENGINES: readonly EngineName[] = ['docker', 'podman', 'buildah'];

/**
 * Buildah's commands (inspect, push, rmi, bud...) create /etc/cni/net.d with an empty `cni.lock` on
 * the host whatever their flags say, though no build here uses a CNI network. Call this before the
 * first Buildah command: the function it returns removes that directory again, if it did not exist
 * before and holds nothing but the lock.
 */
export function undoBuildahCniDir(engine: EngineName, root = '/etc/cni'): () => void {
  if (engine !== 'buildah' || existsSync(root)) return () => {};
  return () => {
    if (!existsSync(root)) return;
    const netd = join(root, 'net.d');
    const onlyNetd = readdirSync(root).every((e) => e === 'net.d');
    const onlyLock = !existsSync(netd) || readdirSync(netd).every((e) => e === 'cni.lock');
    if (onlyNetd && onlyLock) rmSync(root, { recursive: true, force: true });
  };
}

export function isEngineName(name: string): name is EngineName {
  return (ENGINES as readonly string[]).includes(name);
}

/** The first candidate that works. `works` is the probe (`<engine> info` in production). */
export function chooseEngine<T extends string>(
  candidates: readonly T[],
  works: (c: T) => boolean,
): T | undefined {
  return candidates.find(works);
}

/** The label that records what an image was built from (see imageStamp / baseImageStamp). */
export const STAMP_LABEL = 'dev.webui-operator.build-stamp';

export interface ImageInfo {
  id: string;
  labels: Record<string, string>;
  /** Uncompressed size in bytes (sum of the layer tars). */
  size: number;
}

export function inspectArgs(engine: EngineName, ref: string): string[] {
  return engine === 'buildah' ? ['inspect', '--type', 'image', ref] : ['image', 'inspect', ref];
}

interface BuildahInspect {
  FromImageID?: string;
  Manifest?: string;
  OCIv1?: { config?: { Labels?: Record<string, string> | null } };
  Docker?: { config?: { Labels?: Record<string, string> | null } };
}
interface EngineInspect {
  Id?: string;
  Size?: number;
  Config?: { Labels?: Record<string, string> | null };
}

/** Parses `inspectArgs` output; undefined when it names no image. */
export function parseInspect(engine: EngineName, json: string): ImageInfo | undefined {
  if (engine === 'buildah') {
    const j = JSON.parse(json) as BuildahInspect;
    if (!j.FromImageID) return undefined;
    // Layers in local storage are uncompressed: the manifest's sizes add up to the image's size.
    const manifest = JSON.parse(j.Manifest ?? '{}') as { layers?: { size?: number }[] };
    return {
      id: j.FromImageID,
      labels: { ...(j.OCIv1?.config?.Labels ?? {}), ...(j.Docker?.config?.Labels ?? {}) },
      size: (manifest.layers ?? []).reduce((sum, l) => sum + (l.size ?? 0), 0),
    };
  }
  const [j] = JSON.parse(json) as EngineInspect[];
  if (!j?.Id) return undefined;
  return { id: j.Id.replace(/^sha256:/, ''), labels: j.Config?.Labels ?? {}, size: j.Size ?? 0 };
}

// --- I/O ---------------------------------------------------------------------------------------------

/** `<engine> info` succeeds: a daemon answers (docker), or the tool can reach its storage (podman, buildah). */
export function engineWorks(engine: string): boolean {
  return spawnSync(engine, ['info'], { stdio: 'ignore', timeout: 20_000 }).status === 0;
}

export function inspectImage(engine: EngineName, ref: string): ImageInfo | undefined {
  const r = spawnSync(engine, inspectArgs(engine, ref), { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return r.status === 0 ? parseInspect(engine, r.stdout) : undefined;
}

export interface RunOptions {
  cwd?: string;
  /** Capture the command's output and show its tail only when it fails (default: stream it). */
  quiet?: boolean;
}

/** Runs a command to completion; rejects with one line naming it (and, when quiet, its last output). */
export function run(cmd: string, args: readonly string[], opts: RunOptions = {}): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {
      cwd: opts.cwd,
      stdio: ['ignore', opts.quiet ? 'pipe' : 'inherit', opts.quiet ? 'pipe' : 'inherit'],
    });
    let tail = '';
    const keep = (d: Buffer) => {
      tail = (tail + String(d)).slice(-4000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
    child.on('error', (e) => reject(new Error(`${cmd}: ${e.message}`)));
    child.on('close', (code, signal) => {
      if (code === 0) return resolve();
      const shown = args.length > 8 ? `${args.slice(0, 8).join(' ')} …` : args.join(' ');
      reject(
        new Error(`${cmd} ${shown} failed (exit ${code ?? signal})${tail ? `:\n${tail.trimEnd()}` : ''}`),
      );
    });
  });
}
