// The images a dev cluster's node gets: the webui and operator images from the project's Dockerfiles,
// the fake Ollama, CoreDNS and the pause sandbox, as archives for `ctr images import`. Built by
// scripts/build-images.ts (`make dev-images`); an unchanged image costs no build, so calling this
// before every cluster start keeps the node's images in step with the working tree.
import { join } from 'node:path';
import { buildDevImages, type DevImage } from '../../scripts/build-images.ts';
import { REPO_ROOT } from './binaries.ts';

export const DEV_IMAGES_DIR = join(REPO_ROOT, '.dev', 'images');

export async function devImages(log: (line: string) => void = () => {}): Promise<DevImage[]> {
  return buildDevImages({ ociDir: DEV_IMAGES_DIR, quiet: true, log });
}
