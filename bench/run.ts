// `make bench`: runs every benchmark and rewrites docs/benchmarks.md with the
// figures, the machine they came from, and the command behind each figure.
//
//   node bench/run.ts                         # everything (about 20 minutes)
//   node bench/run.ts --only proxy,frontend   # a subset; other sections keep their last figures
//   node bench/run.ts --only cluster          # the real one-node cluster (root; make dev-images first)
//   node bench/run.ts --steady-seconds 60     # shorter steady-state window for the operator bench
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { parse as parseYaml } from 'yaml';
import { formatClusterBench, runClusterBench } from './cluster.ts';
import { formatFrontendBench, measureFrontend } from './frontend.ts';
import { formatLatencyBench, runLatencyBench } from './latency.ts';
import { type OperatorScaleResult, runOperatorScaleBench } from './operator-scale.ts';
import { formatProxyBench, runProxyBench } from './proxy.ts';

const OUT = fileURLToPath(new URL('../docs/benchmarks.md', import.meta.url));
const CHART_VALUES = fileURLToPath(new URL('../charts/webui-operator/values.yaml', import.meta.url));

/** The operator is measured with the Node flags the chart ships (values.yaml `nodeOptions`). */
function shippedOperatorNodeOptions(): string {
  const values = parseYaml(readFileSync(CHART_VALUES, 'utf8')) as { nodeOptions?: unknown };
  if (typeof values.nodeOptions !== 'string') throw new Error(`${CHART_VALUES}: nodeOptions is missing`);
  return values.nodeOptions;
}
const SECTIONS = ['latency', 'proxy', 'frontend', 'operator', 'cluster'] as const;
type Section = (typeof SECTIONS)[number];
/** Sections measured by hand (their commands are in their text): kept as they are by every run. */
type KeptSection = 'latency-notes' | 'images' | 'ci';

function machine(): string {
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  return `${cpus().length} cores (${cpu}), ${(totalmem() / 2 ** 30).toFixed(0)} GiB, Node ${process.version}, load average at start ${loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')}`;
}

function formatOperatorScale(results: OperatorScaleResult[]): string {
  const ok = (b: boolean) => (b ? 'yes' : '**no**');
  const rows = results.map(
    (r) =>
      `| ${r.count} | ${(r.convergedMs / 1000).toFixed(1)} s | ${r.peakRssMb} MB | ${r.steadyWrites} in ${r.steadyWindowSec} s (${r.steadyLeaseWrites} Lease renewals) | ${r.reconcileP50Ms ?? '–'} / ${r.reconcileP99Ms ?? '–'} ms | ${r.reconciles} (${r.reconcileErrors} errors) | ${r.convergeWrites} |`,
  );
  const largest = results.at(-1);
  const smallest = results[0];
  const growth =
    largest && smallest && largest !== smallest
      ? `From ${smallest.count} to ${largest.count} resources (×${largest.count / smallest.count}): convergence time ×${(largest.convergedMs / smallest.convergedMs).toFixed(1)}, peak RSS ×${(largest.peakRssMb / smallest.peakRssMb).toFixed(1)}, writes while converging ×${(largest.convergeWrites / Math.max(1, smallest.convergeWrites)).toFixed(1)}.`
      : '';
  const verdict = largest
    ? `Targets at ${largest.count}: converged < 60 s ${ok(largest.convergedMs < 60_000)}, RSS < 200 MB ${ok(largest.peakRssMb < 200)}, 0 steady-state writes ${ok(largest.steadyWrites === 0)}.`
    : '';
  return [
    '| WebUIs | create → all children and statuses | operator peak RSS | operator API writes in steady state | reconcile p50 / p99 | reconciles | writes while converging |',
    '| --- | --- | --- | --- | --- | --- | --- |',
    ...rows,
    '',
    growth,
    verdict,
  ].join('\n');
}

/** Keeps the previous text of a section that was not re-run this time. */
function previousSection(name: Section | KeptSection): string | undefined {
  if (!existsSync(OUT)) return undefined;
  const text = readFileSync(OUT, 'utf8');
  const m = new RegExp(`<!-- bench:${name}:start -->\\n([\\s\\S]*?)<!-- bench:${name}:end -->`).exec(text);
  return m?.[1];
}

const section = (name: Section | KeptSection, body: string) =>
  `<!-- bench:${name}:start -->\n${body}<!-- bench:${name}:end -->`;

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string', default: SECTIONS.join(',') },
      'steady-seconds': { type: 'string', default: '300' },
      counts: { type: 'string', default: '100,1000' },
    },
  });
  const only = new Set(values.only.split(',').map((s) => s.trim()));
  for (const s of only) {
    if (!SECTIONS.includes(s as Section)) {
      console.error(`bench: --only takes ${SECTIONS.join(', ')}; got "${s}"`);
      process.exit(2);
    }
  }
  const steadyWindowSec = Number(values['steady-seconds']);
  const counts = values.counts.split(',').map(Number);
  const log = (l: string) => console.error(`[bench] ${l}`);
  const when = new Date().toISOString().slice(0, 16).replace('T', ' ');
  const stamp = `_Measured ${when} UTC on ${machine()}._\n\n`;
  const bodies: Partial<Record<Section, string>> = {};

  if (only.has('latency')) {
    log('latency: TTFB on every path users take, against nginx and a bare Node proxy, then 200 slow streams');
    const r = await runLatencyBench({ samples: 1000, warmup: 300, streams: 200, log });
    bodies.latency = `${stamp}Command: \`node bench/latency.ts --samples 1000 --warmup 300 --streams 200\`\n\n${formatLatencyBench(r)}\n\n`;
  }
  if (only.has('proxy')) {
    log('proxy: TTFB through /ollama vs direct, then 1,000 concurrent streams');
    const r = await runProxyBench({ samples: 2000, streams: 1000, log });
    bodies.proxy = `${stamp}Command: \`node bench/proxy.ts --samples 2000 --streams 1000\`\n\n${formatProxyBench(r)}\n\n`;
  }
  if (only.has('frontend')) {
    log('frontend: initial JS size and First Contentful Paint in headless Chromium');
    execFileSync(process.execPath, ['webui/scripts/build-frontend.ts'], { stdio: 'inherit' });
    const r = await measureFrontend({ runs: 15 });
    bodies.frontend = `${stamp}Command: \`make frontend && node bench/frontend.ts --runs 15 --markdown\`\n\n${formatFrontendBench(r)}\n\n`;
  }
  if (only.has('operator')) {
    const results: OperatorScaleResult[] = [];
    const nodeOptions = shippedOperatorNodeOptions();
    for (const count of counts) {
      log(`operator: ${count} WebUIs, steady window ${steadyWindowSec} s, NODE_OPTIONS="${nodeOptions}"`);
      results.push(
        await runOperatorScaleBench({
          count,
          steadyWindowSec,
          log,
          operatorEnv: { NODE_OPTIONS: nodeOptions },
        }),
      );
    }
    bodies.operator = `${stamp}Command: \`node bench/operator-scale.ts --count ${counts.join(',')} --steady-seconds ${steadyWindowSec} --node-options='${nodeOptions}'\` (the bundle the image runs, with the chart's default \`nodeOptions\`)\n\n${formatOperatorScale(results)}\n\n`;
  }

  if (only.has('cluster')) {
    log('cluster: the one-node cluster, apply to Ready and to the first answer, a rollout, memory');
    const r = await runClusterBench(log);
    bodies.cluster = `${stamp}Command: \`make dev-images && node bench/cluster.ts\` (root)\n\n${formatClusterBench(r)}\n\n`;
  }

  const doc = [
    '# Benchmarks',
    '',
    'Written by `make bench` (`node bench/run.ts`); every figure below comes from the command shown with it,',
    'run on the machine described. Speed and memory targets are measured here, never asserted in tests.',
    'The development machine is shared and small (2 cores), so treat single-digit-millisecond figures as noisy.',
    '',
    '## Proxy latency on the paths users take (`/ollama/api/chat`)',
    '',
    'Time to first byte of a streaming chat on every path a user can take, against two floors measured in the',
    "same run: nginx, and the least any Node hop adds (a bare node:http pipe proxy with the launcher's flags).",
    "The operator's processes run with the environment the operator renders, behind nginx configured from the",
    "Ingress it renders (test/harness/rendered-layout.ts, test/harness/nginx.ts). Targets: the operator's layout",
    'adds < 1 ms p50 and < 3 ms p99 over the direct call; `--mode api` alone < 0.5 ms p50.',
    '',
    section('latency', bodies.latency ?? previousSection('latency') ?? '_Not measured yet._\n\n'),
    '',
    '### Where the time goes',
    '',
    section('latency-notes', previousSection('latency-notes') ?? '_Not written yet._\n\n'),
    '',
    '## WebUI proxy overhead and memory (`/ollama/api/chat`)',
    '',
    'Time to first byte through the server compared with a direct call to the fake Ollama in the same run,',
    'then 1,000 concurrent streaming chats through the proxy. Targets: added TTFB < 1 ms p50 and < 5 ms p99;',
    '0 errors and < 150 MB RSS with 1,000 streams.',
    '',
    section('proxy', bodies.proxy ?? previousSection('proxy') ?? '_Not measured yet._\n\n'),
    '',
    '## Frontend budget',
    '',
    'Initial JavaScript (gzipped) and First Contentful Paint on localhost in headless Chromium.',
    'Targets: ≤ 60 KB gzipped, FCP < 300 ms.',
    '',
    section('frontend', bodies.frontend ?? previousSection('frontend') ?? '_Not measured yet._\n\n'),
    '',
    '## Operator at scale',
    '',
    'N `WebUI` resources created at once against a real kube-apiserver (built by `make envtest-assets`), with',
    'the audit log counting API writes. Targets at 1,000: converged < 60 s, < 200 MB RSS, 0 writes in steady state.',
    '',
    section('operator', bodies.operator ?? previousSection('operator') ?? '_Not measured yet._\n\n'),
    '',
    '## Container images (`make images` with Buildah)',
    '',
    'The images as `node scripts/build-images.ts --dev-cluster --oci-dir .dev/images` builds them where there',
    'is no Docker engine and no registry: Buildah, on the local Node base of `scripts/base-image.ts`.',
    "Uncompressed is the sum of the image's layer tars; the archive is the gzip-compressed OCI archive that",
    '`ctr -n k8s.io images import` reads. Measured by hand (not by `make bench`).',
    '',
    section('images', previousSection('images') ?? '_Not measured yet._\n\n'),
    '',
    '## The stack on a real node',
    '',
    'The one-node cluster of `make dev-cluster` (test/harness/cluster.ts) with the images above: what a cluster',
    'admin waits for, and the memory of the whole cluster with one WebUI running.',
    '',
    section('cluster', bodies.cluster ?? previousSection('cluster') ?? '_Not measured yet._\n\n'),
    '',
    '## CI wall time',
    '',
    '`.ci/run` on a fresh clone of main, end to end, including the end-to-end suite. Measured by hand.',
    '',
    section('ci', previousSection('ci') ?? '_Not measured yet._\n\n'),
    '',
  ].join('\n');
  writeFileSync(OUT, doc);
  log(`wrote ${OUT}`);
}

await main();
