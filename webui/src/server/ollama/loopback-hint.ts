import { existsSync } from 'node:fs';
import { isLoopbackUrl } from '../../contract/ip.ts';

/**
 * What to say when a loopback Ollama URL does not answer. "localhost" means
 * a different machine depending on where this server runs, so the advice
 * does too: on a plain machine Ollama is probably not running; in a
 * container or a pod, localhost is the container or the pod.
 */

export type ServerPlace = 'host' | 'container' | 'pod';

/** Where this server runs and the port it listens on. */
export interface Whereabouts {
  place: ServerPlace;
  /** The server's own port: a loopback URL on it points at this server, not at Ollama. */
  port: number | undefined;
}

/** The traces a container runtime or Kubernetes leaves in a process's world. */
export interface PlaceClues {
  /** Set in every pod's containers (unless enableServiceLinks is off and nothing else sets it). */
  kubernetesServiceHost: string | undefined;
  /** Docker's marker file. */
  dockerenv: boolean;
  /** Podman's and buildah's marker file. */
  containerenv: boolean;
}

export function placeFrom(clues: PlaceClues): ServerPlace {
  if (clues.kubernetesServiceHost !== undefined && clues.kubernetesServiceHost !== '') return 'pod';
  return clues.dockerenv || clues.containerenv ? 'container' : 'host';
}

/** Reads the clues (the I/O edge of this module). */
export function readPlaceClues(
  env: Readonly<Record<string, string | undefined>> = process.env,
  exists: (path: string) => boolean = existsSync,
): PlaceClues {
  return {
    kubernetesServiceHost: env.KUBERNETES_SERVICE_HOST,
    dockerenv: exists('/.dockerenv'),
    containerenv: exists('/run/.containerenv'),
  };
}

function portOf(url: string): number | undefined {
  try {
    const u = new URL(url);
    if (u.port !== '') return Number(u.port);
    return u.protocol === 'https:' ? 443 : u.protocol === 'http:' ? 80 : undefined;
  } catch {
    return undefined;
  }
}

const PLACE_HINTS: Record<ServerPlace, string> = {
  host:
    'is Ollama running on this machine? Start it with `ollama serve`, ' +
    'or set OLLAMA_BASE_URL to the address it listens on',
  container:
    'inside a container, localhost is the container, not the machine it runs on: ' +
    'run the container with --network=host, or use http://host.docker.internal:11434 ' +
    '(on Linux, add --add-host=host.docker.internal:host-gateway)',
  pod:
    "in Kubernetes, localhost is this pod: use the Ollama Service's DNS name, " +
    'e.g. http://ollama.<namespace>.svc:11434',
};

/** The hint appended to "Ollama unreachable at <url>: <cause>", or '' for a URL that is not loopback. */
export function loopbackHint(url: string, where: Whereabouts): string {
  if (!isLoopbackUrl(url)) return '';
  if (where.port !== undefined && portOf(url) === where.port) {
    return (
      ` (hint: this URL points at the WebUI server itself (port ${where.port}), not at Ollama: ` +
      'set OLLAMA_BASE_URL to the address Ollama listens on)'
    );
  }
  return ` (hint: ${PLACE_HINTS[where.place]})`;
}
