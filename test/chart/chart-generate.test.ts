import { readFileSync } from 'node:fs';
import { join, relative } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { crdTemplate } from '../../scripts/chart-crd.ts';
import { CRD_SOURCE, generatedFiles } from '../../scripts/chart-generate.ts';
import { setYamlScalar, valuesYamlWithImages } from '../../scripts/chart-images.ts';
import { documentedValues, valuesTableMarkdown } from '../../scripts/chart-readme.ts';
import { jsonSchemaOf, valuesSchemaWithWebuiSpec } from '../../scripts/chart-schema.ts';
import { imageNamesFrom, REPO_ROOT, readImageNames } from '../../scripts/image-names.ts';

const CHART = join(REPO_ROOT, 'charts', 'webui-operator');

describe('generated chart files', () => {
  for (const file of generatedFiles()) {
    it(`${relative(REPO_ROOT, file.path)} matches its source (run node scripts/chart-generate.ts)`, () => {
      expect(file.current).toBe(file.expected);
    });
  }

  it('defaults the chart to the images and version named in package.json', () => {
    const names = readImageNames();
    const chart = parse(readFileSync(join(CHART, 'Chart.yaml'), 'utf8')) as Record<string, unknown>;
    const values = parse(readFileSync(join(CHART, 'values.yaml'), 'utf8')) as {
      image: { repository: string; tag: string };
      defaultWebuiImage: { repository: string; tag: string };
    };
    expect(chart.appVersion).toBe(names.version);
    expect(values.image).toMatchObject(names.operator);
    expect(values.defaultWebuiImage).toMatchObject(names.webui);
  });
});

describe('image names', () => {
  it('joins the registry and the image names and tags them with the version', () => {
    const names = imageNamesFrom({
      version: '1.2.3',
      images: { registry: 'registry.example/team/', webui: 'ui', operator: 'op' },
    });
    expect(names).toEqual({
      version: '1.2.3',
      webui: { repository: 'registry.example/team/ui', tag: '1.2.3' },
      operator: { repository: 'registry.example/team/op', tag: '1.2.3' },
    });
  });

  it('names the missing package.json field', () => {
    expect(() => imageNamesFrom({ version: '1.0.0', images: { registry: 'r', webui: 'w' } })).toThrow(
      /images\.operator/,
    );
  });
});

describe('setYamlScalar', () => {
  it('replaces one scalar and keeps comments and layout byte for byte', () => {
    const src = '# top\nimage:\n  # the repo\n  repository: old/repo   # trailing\n  list: [ "a" ]\n';
    expect(setYamlScalar(src, ['image', 'repository'], 'new/repo')).toBe(
      '# top\nimage:\n  # the repo\n  repository: "new/repo"   # trailing\n  list: [ "a" ]\n',
    );
  });

  it('refuses a path that is not a scalar', () => {
    expect(() => setYamlScalar('image:\n  a: 1\n', ['image'], 'x')).toThrow(/expected a scalar at image/);
  });

  it('writes new image names into values.yaml', () => {
    const values = readFileSync(join(CHART, 'values.yaml'), 'utf8');
    const names = imageNamesFrom({
      version: '9.9.9',
      images: { registry: 'x.io', webui: 'w', operator: 'o' },
    });
    const out = parse(valuesYamlWithImages(values, names)) as {
      image: { repository: string; tag: string };
      defaultWebuiImage: { repository: string; tag: string };
    };
    expect(out.image).toMatchObject({ repository: 'x.io/o', tag: '9.9.9' });
    expect(out.defaultWebuiImage).toMatchObject({ repository: 'x.io/w', tag: '9.9.9' });
  });
});

describe('crdTemplate', () => {
  const crd = [
    'apiVersion: apiextensions.k8s.io/v1',
    'kind: CustomResourceDefinition',
    'metadata:',
    '  name: things.example.dev',
    'spec:',
    '  group: example.dev',
    '  description: "uses {{ braces }}"',
    '',
  ].join('\n');

  it('guards the CRD with crds.install and adds the keep policy under crds.keep', () => {
    const t = crdTemplate(crd, 'crds/x.yaml');
    expect(t.startsWith('{{- if .Values.crds.install }}\n')).toBe(true);
    expect(t).toMatch(
      /\{\{- if \.Values\.crds\.keep \}\}\n {2}annotations:\n {4}helm\.sh\/resource-policy: keep/,
    );
    expect(t).toContain('name: things.example.dev');
  });

  it('prints template braces in the CRD literally', () => {
    expect(crdTemplate(crd, 'crds/x.yaml')).toContain('uses {{ "{{" }} braces {{ "}}" }}');
  });

  it('refuses a file that is not a CRD', () => {
    expect(() => crdTemplate('kind: ConfigMap\n', 'crds/x.yaml')).toThrow(/not a CustomResourceDefinition/);
  });
});

describe('values table', () => {
  it('documents every value from its comment, grouped by section', () => {
    const sections = documentedValues(
      '# header\n\n# +docs:section=Main\n\n# The a.\na: 1\nb:\n  # The c.\n  c: x\n  # +docs:leaf\n  # The d.\n  d:\n    e: 1\n',
    );
    expect(sections).toEqual([
      {
        title: 'Main',
        values: [
          { key: 'a', type: 'integer', default: '1', description: 'The a.' },
          { key: 'b.c', type: 'string', default: '"x"', description: 'The c.' },
          { key: 'b.d', type: 'object', default: '{"e":1}', description: 'The d.' },
        ],
      },
    ]);
    expect(valuesTableMarkdown(sections)).toContain('| `b.d` | object | `{"e":1}` | The d. |');
  });

  it('fails on a value without a comment', () => {
    expect(() => documentedValues('# The a.\na: 1\nb: 2\n')).toThrow(/b has no comment/);
  });
});

// The schema must know every value (or helm would reject the chart's own defaults) and reject unknown
// keys in every block the chart owns; only Kubernetes pass-through blocks stay open.
describe('values.schema.json', () => {
  type Schema = {
    type?: string;
    properties?: Record<string, Schema>;
    additionalProperties?: boolean | Schema;
    $ref?: string;
  };
  const schema = JSON.parse(readFileSync(join(CHART, 'values.schema.json'), 'utf8')) as Schema & {
    definitions: Record<string, Schema>;
  };
  const resolve = (s: Schema): Schema =>
    s.$ref ? (schema.definitions[s.$ref.split('/').pop() ?? ''] ?? s) : s;
  const PASS_THROUGH = new Set(['resources', 'podSecurityContext', 'securityContext', 'affinity']);

  it('has an entry for every documented value and closes every block the chart owns', () => {
    const values = readFileSync(join(CHART, 'values.yaml'), 'utf8');
    for (const { values: docs } of documentedValues(values)) {
      for (const { key } of docs) {
        let node: Schema = schema;
        const parts = key.split('.');
        parts.forEach((part, i) => {
          expect(node.additionalProperties, `${parts.slice(0, i).join('.') || '(top level)'} is closed`).toBe(
            false,
          );
          const next = node.properties?.[part];
          expect(next, `schema entry for ${key}`).toBeDefined();
          node = resolve(next as Schema);
        });
        if (node.type === 'object' && !PASS_THROUGH.has(key) && node.properties) {
          expect(node.additionalProperties, `${key} is closed`).toBe(false);
        }
      }
    }
  });
});

describe('webui.spec schema from the CRD', () => {
  it('closes objects, keeps preserve-unknown-fields open, turns int-or-string into anyOf, drops CEL', () => {
    const out = jsonSchemaOf({
      type: 'object',
      description: 'dropped',
      required: ['a'],
      'x-kubernetes-validations': [{ rule: 'true', message: 'm' }],
      properties: {
        a: { type: 'integer', format: 'int32', minimum: 1 },
        port: { 'x-kubernetes-int-or-string': true },
        free: {
          type: 'object',
          properties: { k: { type: 'string' } },
          'x-kubernetes-preserve-unknown-fields': true,
        },
        map: { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } },
        list: { type: 'array', items: { type: 'object', properties: { n: { type: 'string' } } } },
      },
    });
    expect(out).toEqual({
      type: 'object',
      required: ['a'],
      additionalProperties: false,
      properties: {
        a: { type: 'integer', minimum: 1 },
        port: { anyOf: [{ type: 'integer' }, { type: 'string' }] },
        free: { type: 'object', properties: { k: { type: 'string' } } },
        map: { type: 'object', additionalProperties: { type: 'string', maxLength: 3 } },
        list: {
          type: 'array',
          items: { type: 'object', additionalProperties: false, properties: { n: { type: 'string' } } },
        },
      },
    });
  });

  it('puts the CRD spec schema at webui.spec', () => {
    const crd = readFileSync(CRD_SOURCE, 'utf8');
    const schema = JSON.parse(
      valuesSchemaWithWebuiSpec(JSON.stringify({ properties: { webui: { properties: {} } } }), crd),
    ) as {
      properties: { webui: { properties: { spec: { additionalProperties: boolean; properties: object } } } };
    };
    const spec = schema.properties.webui.properties.spec;
    expect(spec.additionalProperties).toBe(false);
    expect(Object.keys(spec.properties)).toContain('ollama');
  });

  it('refuses a file that is not a CRD', () => {
    expect(() => valuesSchemaWithWebuiSpec('{}', 'kind: ConfigMap\n')).toThrow(/not a CRD/);
  });
});
