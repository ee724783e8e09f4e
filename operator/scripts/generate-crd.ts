/** Writes crds/webui.dev_webuis.yaml and docs/api.md from operator/src/api/v1alpha1. */
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { webuiCrdYaml } from '../src/api/v1alpha1/crd.ts';
import { apiReferenceMarkdown } from '../src/api/v1alpha1/docs.ts';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const CRD_PATH = join(root, 'crds', 'webui.dev_webuis.yaml');
export const API_DOC_PATH = join(root, 'docs', 'api.md');

writeFileSync(CRD_PATH, webuiCrdYaml());
writeFileSync(API_DOC_PATH, apiReferenceMarkdown());
console.log(`wrote ${CRD_PATH} and ${API_DOC_PATH}`);
