/**
 * Installs the Go toolchain the build needs into <dir> when the machine has no Go, or one older
 * than the build's (Debian 12 ships 1.19). The toolchain is a module on the Go module proxy
 * (`golang.org/toolchain`, what `GOTOOLCHAIN` switching downloads), so it comes from the same
 * registry as every other module; the zip is checked against a pinned sha256.
 *   node scripts/bootstrap/go.ts .tools/go
 */
import { createHash } from 'node:crypto';
import { chmodSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { arch, platform } from 'node:os';
import { dirname, join, normalize } from 'node:path';
import { inflateRawSync } from 'node:zlib';

export const GO_VERSION = '1.26.8';
/** sha256 of the proxy's zips of golang.org/toolchain@v0.0.1-go<GO_VERSION>.<platform>. */
const ZIP_SHA256: Record<string, string> = {
  'linux-amd64': '30c2b1bf7dcc88d3eb0a1364e47ddd9128edb3110a30e8a0ef61cd5856b31de7',
  'linux-arm64': '02b36b6787b3ac767668f630e2998df45a3b1f9ffee08d1bf3ef6487cd658d99',
};

/** The first proxy in GOPROXY that is a URL (not `direct` or `off`); Go's own default otherwise. */
export function proxyFrom(goproxy: string | undefined): string {
  for (const entry of (goproxy ?? '').split(/[,|]/)) {
    const e = entry.trim();
    if (/^https?:\/\//.test(e)) return e.replace(/\/+$/, '');
  }
  return 'https://proxy.golang.org';
}

export interface ZipEntry {
  name: string;
  /** Unix permission bits from the entry's external attributes (0 when the zip has none). */
  mode: number;
  data(): Buffer;
}

/** The entries of a zip archive (stored or deflated; no zip64, which a toolchain zip does not need). */
export function readZip(zip: Buffer): ZipEntry[] {
  const eocd = zip.lastIndexOf(Buffer.from([0x50, 0x4b, 0x05, 0x06]));
  if (eocd < 0) throw new Error('not a zip archive (no end of central directory)');
  const count = zip.readUInt16LE(eocd + 10);
  let at = zip.readUInt32LE(eocd + 16);
  const entries: ZipEntry[] = [];
  for (let i = 0; i < count; i++) {
    if (zip.readUInt32LE(at) !== 0x02014b50) throw new Error(`bad central directory entry ${i}`);
    const method = zip.readUInt16LE(at + 10);
    const compressedSize = zip.readUInt32LE(at + 20);
    const nameLength = zip.readUInt16LE(at + 28);
    const extraLength = zip.readUInt16LE(at + 30);
    const commentLength = zip.readUInt16LE(at + 32);
    const external = zip.readUInt32LE(at + 38);
    const localHeader = zip.readUInt32LE(at + 42);
    const name = zip.toString('utf8', at + 46, at + 46 + nameLength);
    at += 46 + nameLength + extraLength + commentLength;
    const dataStart =
      localHeader + 30 + zip.readUInt16LE(localHeader + 26) + zip.readUInt16LE(localHeader + 28);
    entries.push({
      name,
      mode: (external >>> 16) & 0o777,
      data: () => {
        const raw = zip.subarray(dataStart, dataStart + compressedSize);
        if (method === 0) return raw;
        if (method === 8) return inflateRawSync(raw);
        throw new Error(`${name}: compression method ${method} is not supported`);
      },
    });
  }
  return entries;
}

/** Writes the entries under `prefix` into `dir`; executables keep (or, for bin/ and pkg/tool/, get) their x bit. */
export function extract(entries: ZipEntry[], prefix: string, dir: string): number {
  let files = 0;
  for (const e of entries) {
    if (!e.name.startsWith(prefix) || e.name.endsWith('/')) continue;
    const rel = normalize(e.name.slice(prefix.length));
    if (rel.startsWith('..') || rel.startsWith('/')) throw new Error(`${e.name}: a path outside the archive`);
    const target = join(dir, rel);
    mkdirSync(dirname(target), { recursive: true });
    writeFileSync(target, e.data());
    const executable = (e.mode & 0o111) !== 0 || /^(bin|pkg\/tool\/[^/]+)\/[^/]+$/.test(rel);
    chmodSync(target, executable ? 0o755 : 0o644);
    files++;
  }
  return files;
}

async function main(): Promise<void> {
  const dir = process.argv[2];
  if (dir === undefined) throw new Error('usage: node scripts/bootstrap/go.ts <dir>');
  const goArch = arch() === 'x64' ? 'amd64' : arch();
  const target = `${platform()}-${goArch}`;
  const sha256 = ZIP_SHA256[target];
  if (sha256 === undefined) {
    throw new Error(
      `no pinned Go toolchain for ${target}; install Go ${GO_VERSION} or newer (https://go.dev/dl)`,
    );
  }
  const version = `v0.0.1-go${GO_VERSION}.${platform()}-${goArch}`;
  const url = `${proxyFrom(process.env.GOPROXY)}/golang.org/toolchain/@v/${version}.zip`;
  console.log(`bootstrap: Go ${GO_VERSION} from ${url} into ${dir}`);
  const res = await fetch(url);
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  const zip = Buffer.from(await res.arrayBuffer());
  const got = createHash('sha256').update(zip).digest('hex');
  if (got !== sha256)
    throw new Error(`${url} does not match its pinned sha256 (got ${got}); nothing was installed`);
  rmSync(dir, { recursive: true, force: true });
  const files = extract(readZip(zip), `golang.org/toolchain@${version}/`, dir);
  console.log(`bootstrap: ${files} files; ${join(dir, 'bin', 'go')}`);
}

if (import.meta.main) {
  main().catch((err: unknown) => {
    console.error(`bootstrap: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
