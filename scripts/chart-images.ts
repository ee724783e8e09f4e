/**
 * Writes the image names and version from package.json into the chart: Chart.yaml `version` and
 * `appVersion`, and values.yaml `image` and `defaultWebuiImage`. Only the scalar values are replaced, in
 * place, so the hand-written comments and layout of both files are kept byte for byte.
 */
import { isScalar, parseDocument } from 'yaml';
import type { ImageNames } from './image-names.ts';

/** Replaces the scalar at `path` in a YAML source with `value`, leaving every other byte as it was. */
export function setYamlScalar(source: string, path: readonly string[], value: string): string {
  const doc = parseDocument(source);
  const node = doc.getIn(path, true);
  if (!isScalar(node) || !node.range) {
    throw new Error(`expected a scalar at ${path.join('.')}`);
  }
  const [start, valueEnd] = node.range;
  return source.slice(0, start) + JSON.stringify(value) + source.slice(valueEnd);
}

export function chartYamlWithImages(chartYaml: string, names: ImageNames): string {
  let out = setYamlScalar(chartYaml, ['version'], names.version);
  out = setYamlScalar(out, ['appVersion'], names.version);
  return out;
}

export function valuesYamlWithImages(valuesYaml: string, names: ImageNames): string {
  let out = setYamlScalar(valuesYaml, ['image', 'repository'], names.operator.repository);
  out = setYamlScalar(out, ['image', 'tag'], names.operator.tag);
  out = setYamlScalar(out, ['defaultWebuiImage', 'repository'], names.webui.repository);
  out = setYamlScalar(out, ['defaultWebuiImage', 'tag'], names.webui.tag);
  return out;
}
