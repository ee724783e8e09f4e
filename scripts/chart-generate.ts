/**
 * Regenerates the chart's derived files from their sources:
 *   package.json version/images  -> Chart.yaml version/appVersion, values.yaml image defaults
 *   crds/webui.dev_webuis.yaml   -> templates/crd-webui.dev_webuis.yaml
 *   values.yaml comments         -> README.md values table
 *   crds/webui.dev_webuis.yaml   -> values.schema.json `webui.spec` (the CRD's spec schema, closed)
 * `--check` writes nothing and exits 1 naming each stale file (test/chart/chart-generate.test.ts runs
 * the same comparison).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { crdTemplate } from './chart-crd.ts';
import { chartYamlWithImages, valuesYamlWithImages } from './chart-images.ts';
import { readmeWithValuesTable } from './chart-readme.ts';
import { valuesSchemaWithWebuiSpec } from './chart-schema.ts';
import { REPO_ROOT, readImageNames } from './image-names.ts';

export const CHART_DIR = join(REPO_ROOT, 'charts', 'webui-operator');
export const CRD_SOURCE = join(REPO_ROOT, 'crds', 'webui.dev_webuis.yaml');
export const CRD_TEMPLATE = join(CHART_DIR, 'templates', 'crd-webui.dev_webuis.yaml');

export interface GeneratedFile {
  path: string;
  current: string;
  expected: string;
}

/** Every derived file with its content on disk and the content it should have. Pure apart from reads. */
export function generatedFiles(root = REPO_ROOT): GeneratedFile[] {
  const chartDir = join(root, 'charts', 'webui-operator');
  const read = (p: string) => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return '';
    }
  };
  const names = readImageNames(root);
  const chartPath = join(chartDir, 'Chart.yaml');
  const valuesPath = join(chartDir, 'values.yaml');
  const readmePath = join(chartDir, 'README.md');
  const crdSource = join(root, 'crds', 'webui.dev_webuis.yaml');
  const crdTemplatePath = join(chartDir, 'templates', 'crd-webui.dev_webuis.yaml');
  const schemaPath = join(chartDir, 'values.schema.json');
  const values = read(valuesPath);
  const expectedValues = valuesYamlWithImages(values, names);
  return [
    { path: chartPath, current: read(chartPath), expected: chartYamlWithImages(read(chartPath), names) },
    { path: valuesPath, current: values, expected: expectedValues },
    {
      path: crdTemplatePath,
      current: read(crdTemplatePath),
      expected: crdTemplate(read(crdSource), relative(root, crdSource)),
    },
    {
      path: schemaPath,
      current: read(schemaPath),
      expected: valuesSchemaWithWebuiSpec(read(schemaPath), read(crdSource)),
    },
    {
      path: readmePath,
      current: read(readmePath),
      expected: readmeWithValuesTable(read(readmePath), expectedValues),
    },
  ];
}

function main(): void {
  const check = process.argv.includes('--check');
  const stale = generatedFiles().filter((f) => f.current !== f.expected);
  if (check) {
    for (const f of stale) {
      console.error(`${relative(REPO_ROOT, f.path)} is stale: run node scripts/chart-generate.ts`);
    }
    process.exit(stale.length > 0 ? 1 : 0);
  }
  for (const f of stale) {
    writeFileSync(f.path, f.expected);
    console.log(`wrote ${relative(REPO_ROOT, f.path)}`);
  }
  if (stale.length === 0) console.log('chart files are up to date');
}

if (import.meta.url === `file://${process.argv[1]}`) main();
