/**
 * The one place image names and tags come from: package.json `images` {registry, webui, operator} and
 * `version` (the tag). The chart defaults (scripts/chart-images.ts), `make images`
 * (scripts/build-images.ts) and the operator's default WebUI image all derive from this.
 */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');

export interface ImageNames {
  /** The release version: package.json `version`, the images' tag and the chart's appVersion. */
  version: string;
  webui: { repository: string; tag: string };
  operator: { repository: string; tag: string };
}

interface PackageJsonImages {
  version?: unknown;
  images?: { registry?: unknown; webui?: unknown; operator?: unknown };
}

function requireString(value: unknown, field: string): string {
  if (typeof value !== 'string' || value.trim() === '') {
    throw new Error(`package.json ${field} must be a non-empty string (it names the container images)`);
  }
  return value.trim();
}

/** Derives the image names from a parsed package.json. */
export function imageNamesFrom(pkg: PackageJsonImages): ImageNames {
  const version = requireString(pkg.version, 'version');
  const registry = requireString(pkg.images?.registry, 'images.registry').replace(/\/+$/, '');
  const repo = (name: string) => `${registry}/${name}`;
  return {
    version,
    webui: { repository: repo(requireString(pkg.images?.webui, 'images.webui')), tag: version },
    operator: { repository: repo(requireString(pkg.images?.operator, 'images.operator')), tag: version },
  };
}

export function readImageNames(root = REPO_ROOT): ImageNames {
  return imageNamesFrom(JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as PackageJsonImages);
}
