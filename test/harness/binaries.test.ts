import { chmodSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { findBinaries } from './binaries.ts';

const dirs: string[] = [];
function assetsDir(files: string[]): string {
  const dir = mkdtempSync(join(tmpdir(), 'assets-test-'));
  dirs.push(dir);
  for (const f of files) {
    writeFileSync(join(dir, f), '#!/bin/sh\n');
    chmodSync(join(dir, f), 0o755);
  }
  return dir;
}

afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('findBinaries', () => {
  it('uses kube-apiserver and a release etcd from KUBEBUILDER_ASSETS', () => {
    const dir = assetsDir(['kube-apiserver', 'etcd', 'kubectl']);
    const b = findBinaries({ KUBEBUILDER_ASSETS: dir });
    expect(b.apiServer).toBe(join(dir, 'kube-apiserver'));
    expect(b.etcd).toBe(join(dir, 'etcd'));
    expect(b.kubectl).toBe(join(dir, 'kubectl'));
    expect(b.etcdIsEmbedded).toBe(false);
    expect(b.source).toContain('KUBEBUILDER_ASSETS');
  });

  it('recognizes our multi-call binary behind an etcd symlink', () => {
    const dir = assetsDir(['k8s-envtest']);
    symlinkSync('k8s-envtest', join(dir, 'etcd'));
    symlinkSync('k8s-envtest', join(dir, 'kube-apiserver'));
    expect(findBinaries({ KUBEBUILDER_ASSETS: dir }).etcdIsEmbedded).toBe(true);
  });

  it('fails with the command to run when binaries are missing (never a silent skip)', () => {
    const dir = assetsDir(['etcd']);
    expect(() => findBinaries({ KUBEBUILDER_ASSETS: dir })).toThrow(
      /no executable kube-apiserver in .*make envtest-assets/,
    );
    const notExecutable = assetsDir([]);
    writeFileSync(join(notExecutable, 'kube-apiserver'), '');
    expect(() => findBinaries({ KUBEBUILDER_ASSETS: notExecutable })).toThrow(/kube-apiserver and etcd/);
  });
});
