/**
 * Embeds the WebUI CRD's `spec` schema in the chart's values.schema.json at `webui.spec`, so that
 * `helm install` refuses a typo in `webui.spec` instead of the API server silently pruning the unknown
 * field. The CRD's OpenAPI is turned into plain JSON Schema: objects with known properties are closed
 * (structural schemas prune instead), int-or-string becomes anyOf, and Kubernetes-only keywords (CEL
 * rules, list types, formats, descriptions) are dropped: the API server still applies those on install.
 */
import { parse } from 'yaml';

type Node = Record<string, unknown>;

const DROPPED = new Set(['description', 'format', 'nullable', 'example']);

/** JSON Schema for one CRD OpenAPI node. */
export function jsonSchemaOf(node: Node): Node {
  const out: Node = {};
  for (const [k, v] of Object.entries(node)) {
    if (DROPPED.has(k) || k.startsWith('x-kubernetes-')) continue;
    if (k === 'properties') {
      out.properties = Object.fromEntries(
        Object.entries(v as Record<string, Node>).map(([name, child]) => [name, jsonSchemaOf(child)]),
      );
    } else if (k === 'items' || (k === 'additionalProperties' && typeof v === 'object')) {
      out[k] = jsonSchemaOf(v as Node);
    } else if (k === 'anyOf' || k === 'allOf' || k === 'oneOf') {
      out[k] = (v as Node[]).map(jsonSchemaOf);
    } else {
      out[k] = v;
    }
  }
  if (node['x-kubernetes-int-or-string'] === true) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (
    out.properties &&
    out.additionalProperties === undefined &&
    !node['x-kubernetes-preserve-unknown-fields']
  ) {
    out.additionalProperties = false;
  }
  return out;
}

/** values.schema.json (text) with `webui.spec` set from the CRD (YAML text); formatted as JSON, 2 spaces. */
export function valuesSchemaWithWebuiSpec(schemaText: string, crdYaml: string): string {
  const schema = JSON.parse(schemaText) as Node & {
    properties: { webui: { properties: Record<string, Node> } };
  };
  const crd = parse(crdYaml) as {
    kind?: string;
    spec?: { versions?: { schema?: { openAPIV3Schema?: { properties?: { spec?: Node } } } }[] };
  };
  const spec = crd.spec?.versions?.[0]?.schema?.openAPIV3Schema?.properties?.spec;
  if (crd.kind !== 'CustomResourceDefinition' || !spec) throw new Error('not a CRD with a spec schema');
  schema.properties.webui.properties.spec = jsonSchemaOf(spec);
  return `${JSON.stringify(schema, null, 2)}\n`;
}
