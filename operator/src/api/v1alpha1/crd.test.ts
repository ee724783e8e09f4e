import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { webuiCrdYaml } from './crd.ts';
import { apiReferenceMarkdown } from './docs.ts';
import { defaultSpec } from './webui.ts';

const root = join(import.meta.dirname, '..', '..', '..', '..');

type Json = Record<string, unknown>;

function walk(node: Json, path: string, visit: (n: Json, path: string) => void): void {
  visit(node, path);
  const props = node.properties as Record<string, Json> | undefined;
  for (const [k, v] of Object.entries(props ?? {})) walk(v, `${path}.${k}`, visit);
  if (node.items) walk(node.items as Json, `${path}[]`, visit);
  if (typeof node.additionalProperties === 'object')
    walk(node.additionalProperties as Json, `${path}{}`, visit);
}

describe('generated artifacts', () => {
  it('crds/webui.dev_webuis.yaml equals the generated CRD (run `make crds` after changing the API)', () => {
    expect(readFileSync(join(root, 'crds', 'webui.dev_webuis.yaml'), 'utf8')).toBe(webuiCrdYaml());
  });

  it('docs/api.md equals the generated reference (run `make crds` after changing the API)', () => {
    expect(readFileSync(join(root, 'docs', 'api.md'), 'utf8')).toBe(apiReferenceMarkdown());
  });
});

describe('CRD schema', () => {
  const crd = parse(webuiCrdYaml()) as Json;
  const version = ((crd.spec as Json).versions as Json[])[0] as Json;
  const root = (version.schema as Json).openAPIV3Schema as Json;
  const spec = (root.properties as Record<string, Json>).spec as Json;
  const status = (root.properties as Record<string, Json>).status as Json;

  it('describes every spec and status field so kubectl explain is useful', () => {
    const missing: string[] = [];
    for (const [name, s] of [
      ['spec', spec],
      ['status', status],
    ] as const) {
      walk(s, name, (n, p) => {
        if (typeof n.description !== 'string' || n.description.length < 3) missing.push(p);
      });
    }
    expect(missing).toEqual([]);
  });

  it('is structural: every node has a type or an allowed escape hatch', () => {
    const untyped: string[] = [];
    walk(spec, 'spec', (n, p) => {
      if (n.type === undefined && !n['x-kubernetes-int-or-string']) untyped.push(p);
    });
    expect(untyped).toEqual([]);
  });

  it('keys status.conditions by type so SSA merges them per type', () => {
    const conditions = (status.properties as Record<string, Json>).conditions as Json;
    expect(conditions['x-kubernetes-list-type']).toBe('map');
    expect(conditions['x-kubernetes-list-map-keys']).toEqual(['type']);
  });

  it('has the status subresource and the Ready/URL/Ollama/Age printer columns', () => {
    expect(version.subresources).toEqual({ status: {} });
    const cols = (version.additionalPrinterColumns as Json[]).filter((c) => c.priority === undefined);
    expect(cols.map((c) => c.name)).toEqual(['Ready', 'URL', 'Ollama', 'Age']);
  });

  it('carries the CEL rules for the external database, URLs and baseUrl/baseUrls', () => {
    const yaml = webuiCrdYaml();
    expect(yaml).toContain('self.backend.replicas <= 1 || has(self.database)');
    expect(yaml).toContain('has(self.baseUrl) != has(self.baseUrls)');
    expect(yaml).toContain("self.matches('^https?://");
  });
});

describe('defaultSpec', () => {
  it('fills nested defaults the way the API server does', () => {
    const s = defaultSpec({ ollama: { baseUrl: 'http://ollama:11434' }, persistence: { size: '1Gi' } });
    expect(s.backend.replicas).toBe(1);
    expect(s.frontend.replicas).toBe(1);
    expect(s.persistence).toEqual({ size: '1Gi', retainOnDelete: true });
    expect(s.service).toEqual({ type: 'ClusterIP', port: 80 });
    expect(s.database).toBeUndefined();
  });

  it('defaults the key of a database secret reference', () => {
    const s = defaultSpec({
      ollama: { baseUrl: 'http://ollama:11434' },
      database: { urlSecretRef: { name: 'pg' } },
    });
    expect(s.database?.urlSecretRef).toEqual({ name: 'pg', key: 'url' });
  });
});
