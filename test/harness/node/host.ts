// Everything the dev cluster's node changes on the machine, recorded before it is changed and put
// back afterwards: sysctls (the kubelet and the bridge plugin set some), the pods' bridge and veths,
// network namespaces, iptables chains and nftables tables, mounts, cgroups, directories outside the
// node's root, and the processes themselves.
//
// The journal is written before the first change. `undoHostChanges` reads it and is idempotent: it
// runs when the node stops, from the reaper when the process that started the node dies (even by
// SIGKILL), and at the next start when neither ran (a crash of the whole machine's session).
import { spawnSync } from 'node:child_process';
import {
  existsSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmdirSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { join } from 'node:path';

/** Sysctls that the kubelet, kube-proxy or the CNI bridge plugin are known to write. */
export const WATCHED_SYSCTLS = [
  'net.ipv4.ip_forward',
  'net.ipv4.conf.all.forwarding',
  'net.ipv4.conf.all.route_localnet',
  'net.bridge.bridge-nf-call-iptables',
  'net.bridge.bridge-nf-call-ip6tables',
  'vm.overcommit_memory',
  'vm.panic_on_oom',
  'kernel.panic',
  'kernel.panic_on_oops',
  'kernel.keys.root_maxkeys',
  'kernel.keys.root_maxbytes',
] as const;

/** Directories outside the node's root that the kubelet, containerd or CNI use whatever their flags say. */
export const FIXED_HOST_PATHS = [
  '/var/lib/kubelet',
  '/var/log/containers',
  '/var/log/pods',
  '/var/lib/cni',
  '/run/containerd',
  '/var/run/netns',
  '/etc/cni',
  '/opt/cni',
] as const;

export interface HostJournal {
  version: 1;
  /** The process that started the node; the node is "running" while it lives. */
  owner: { pid: number; startTime: string };
  root: string;
  bridge: string;
  cgroupRoot: string;
  /** sysctl name -> value before the node started (missing keys are not recorded). */
  sysctls: Record<string, string>;
  /** Which FIXED_HOST_PATHS existed before (those that did not are removed afterwards). */
  preexistingPaths: string[];
  /** iptables/ip6tables chains (table/chain) that existed before: never touched. */
  preexistingChains: string[];
  /** nftables tables ("family name") and chains ("family table chain") that existed before: never touched. */
  preexistingNftTables: string[];
  preexistingNftChains: string[];
  /** Network namespaces that existed before. */
  preexistingNetns: string[];
  /** Processes started for the node (a recorded pid counts only while its start time matches). */
  processes: { name: string; pid: number; startTime: string }[];
}

export const journalPath = (root: string) => join(root, 'host-journal.json');

// --- reading the host -------------------------------------------------------------------------------

const sysctlFile = (name: string) => join('/proc/sys', ...name.split('.'));

export function readSysctl(name: string): string | undefined {
  try {
    return readFileSync(sysctlFile(name), 'utf8').trim();
  } catch {
    return undefined;
  }
}

function run(cmd: string, args: string[]): { ok: boolean; out: string; err: string } {
  const r = spawnSync(cmd, args, { encoding: 'utf8', timeout: 30_000 });
  return { ok: r.status === 0, out: r.stdout ?? '', err: `${r.stderr ?? ''}${r.error?.message ?? ''}` };
}

/** Start time of a process (field 22 of /proc/PID/stat): tells a live owner from a reused pid. */
export function processStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses: split after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

export function isOwnerAlive(owner: HostJournal['owner']): boolean {
  return processStartTime(owner.pid) === owner.startTime;
}

/** Chains as "family/table/chain" from `iptables-save`-style output. */
export function parseIptablesChains(family: 'ip' | 'ip6', save: string): string[] {
  const chains: string[] = [];
  let table = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) table = line.slice(1).trim();
    else if (line.startsWith(':')) chains.push(`${family}/${table}/${line.slice(1).split(' ')[0]}`);
  }
  return chains;
}

export function iptablesChains(): string[] {
  const out: string[] = [];
  for (const [family, cmd] of [
    ['ip', 'iptables-save'],
    ['ip6', 'ip6tables-save'],
  ] as const) {
    const r = run(cmd, []);
    if (r.ok) out.push(...parseIptablesChains(family, r.out));
  }
  return out;
}

export interface NftInventory {
  /** "family name" */
  tables: string[];
  /** "family table chain" */
  chains: string[];
  /** Rules per chain ("family table chain" -> count). */
  rules: Record<string, number>;
}

type NftItem = {
  table?: { family: string; name: string };
  chain?: { family: string; table: string; name: string };
  rule?: { family: string; table: string; chain: string };
};

/** Tables, chains and rule counts from `nft -j list ruleset` (iptables-nft's tables included). */
export function parseNftInventory(json: string): NftInventory {
  const inv: NftInventory = { tables: [], chains: [], rules: {} };
  let items: NftItem[] = [];
  try {
    items = (JSON.parse(json) as { nftables?: NftItem[] }).nftables ?? [];
  } catch {
    return inv;
  }
  for (const item of items) {
    if (item.table) inv.tables.push(`${item.table.family} ${item.table.name}`);
    if (item.chain) inv.chains.push(`${item.chain.family} ${item.chain.table} ${item.chain.name}`);
    if (item.rule) {
      const key = `${item.rule.family} ${item.rule.table} ${item.rule.chain}`;
      inv.rules[key] = (inv.rules[key] ?? 0) + 1;
    }
  }
  return inv;
}

export function nftInventory(): NftInventory {
  const r = run('nft', ['-j', 'list', 'ruleset']);
  return r.ok ? parseNftInventory(r.out) : { tables: [], chains: [], rules: {} };
}

/** "family name" of every nftables table. */
export function nftTables(): string[] {
  return nftInventory().tables;
}

export function netnsNames(): string[] {
  try {
    return readdirSync('/var/run/netns');
  } catch {
    return [];
  }
}

/** The journal a new node starts from: what the host looks like now. */
export function recordHost(
  base: Omit<
    HostJournal,
    | 'version'
    | 'sysctls'
    | 'preexistingPaths'
    | 'preexistingChains'
    | 'preexistingNftTables'
    | 'preexistingNftChains'
    | 'preexistingNetns'
    | 'processes'
  >,
): HostJournal {
  const sysctls: Record<string, string> = {};
  for (const name of WATCHED_SYSCTLS) {
    const v = readSysctl(name);
    if (v !== undefined) sysctls[name] = v;
  }
  return {
    version: 1,
    ...base,
    sysctls,
    preexistingPaths: FIXED_HOST_PATHS.filter((p) => existsSync(p)),
    preexistingChains: iptablesChains(),
    preexistingNftTables: nftTables(),
    preexistingNftChains: nftInventory().chains,
    preexistingNetns: netnsNames(),
    processes: [],
  };
}

export function writeJournal(j: HostJournal): void {
  const path = journalPath(j.root);
  writeFileSync(`${path}.tmp`, `${JSON.stringify(j, null, 2)}\n`, { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export function readJournal(root: string): HostJournal | undefined {
  try {
    const j = JSON.parse(readFileSync(journalPath(root), 'utf8')) as HostJournal;
    return j.version === 1 ? j : undefined;
  } catch {
    return undefined;
  }
}

// --- undoing ----------------------------------------------------------------------------------------

const CGROUP_FS = '/sys/fs/cgroup';

/** Every cgroup v1 hierarchy (or the v2 root) mounted under /sys/fs/cgroup. */
export function cgroupHierarchies(): string[] {
  if (existsSync(join(CGROUP_FS, 'cgroup.controllers'))) return [CGROUP_FS];
  try {
    return readdirSync(CGROUP_FS)
      .map((d) => join(CGROUP_FS, d))
      .filter((d) => {
        try {
          return statSync(d).isDirectory() && existsSync(join(d, 'cgroup.procs'));
        } catch {
          return false;
        }
      });
  } catch {
    return [];
  }
}

/** Directories of a cgroup tree, deepest first. */
function cgroupTree(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.isDirectory()) out.push(...cgroupTree(join(dir, entry.name)));
  }
  out.push(dir);
  return out;
}

function pidsIn(cgroupDir: string): number[] {
  try {
    return readFileSync(join(cgroupDir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

function kill(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // Already gone.
  }
}

/**
 * Processes of the node: every component started for it names the node's root in its command line
 * (a config file, a data dir, containerd's socket for the shims), and nothing else on the machine does.
 */
export function processesMentioning(root: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    const pid = Number(name);
    if (!Number.isInteger(pid) || pid === process.pid) continue;
    try {
      if (readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(root)) found.push(pid);
    } catch {
      // Gone meanwhile.
    }
  }
  return found;
}

/** Mount points at or under `dir`, deepest first (from /proc/self/mountinfo). */
export function mountsUnder(dir: string, mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string[] {
  const prefix = dir.endsWith('/') ? dir : `${dir}/`;
  const unescapeOctal = (s: string) =>
    s.replace(/\\(\d{3})/g, (_, o: string) => String.fromCharCode(Number.parseInt(o, 8)));
  return mountinfo
    .split('\n')
    .map((l) => unescapeOctal(l.split(' ')[4] ?? ''))
    .filter((m) => m === dir || m.startsWith(prefix))
    .sort((a, b) => b.split('/').length - a.split('/').length || b.length - a.length);
}

/** iptables(-save) rules that jump to one of `chains`, as arguments for `-D`. */
export function rulesJumpingTo(save: string, table: string, chains: Set<string>): string[][] {
  const out: string[][] = [];
  let current = '';
  for (const line of save.split('\n')) {
    if (line.startsWith('*')) current = line.slice(1).trim();
    if (current !== table || !line.startsWith('-A ')) continue;
    const target = /(?:^| )-[jg] (\S+)/.exec(line)?.[1];
    const chain = line.split(' ')[1] ?? '';
    if (target && chains.has(target) && !chains.has(chain)) out.push(line.slice(3).split(' '));
  }
  return out;
}

export interface UndoReport {
  killed: number;
  errors: string[];
}

const sleepSync = (ms: number) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);

/**
 * Puts the host back as the journal says it was. Safe to run twice, and with the node half-started.
 * Order matters: processes first (nothing may recreate what is removed), then mounts (a netns file
 * must be unmounted before its namespace and veths go away), then the network, then sysctls.
 */
export function undoHostChanges(j: HostJournal): UndoReport {
  const errors: string[] = [];
  let killed = 0;
  const note = (what: string, r: { ok: boolean; err: string }) => {
    if (!r.ok) errors.push(`${what}: ${r.err.trim()}`);
  };

  // 1. Processes: the recorded ones, whatever runs our binaries, and everything in the node's cgroups
  //    (containers and shims). Repeat: a dying shim may still reap or spawn for a moment.
  for (let round = 0; round < 20; round++) {
    const pids = new Set<number>();
    for (const p of j.processes) if (processStartTime(p.pid) === p.startTime) pids.add(p.pid);
    for (const pid of processesMentioning(j.root)) pids.add(pid);
    for (const h of cgroupHierarchies()) {
      for (const dir of cgroupTree(join(h, j.cgroupRoot))) for (const pid of pidsIn(dir)) pids.add(pid);
    }
    pids.delete(process.pid);
    if (pids.size === 0) break;
    for (const pid of pids) kill(pid, 'SIGKILL');
    killed += pids.size;
    sleepSync(150);
  }

  // 2. Mounts under the node's root (overlay rootfs, shm, volumes, netns files, the kubelet's
  //    self bind mount), deepest first; detach if busy.
  for (const m of mountsUnder(j.root)) {
    const r = run('umount', [m]);
    if (!r.ok) note(`umount -l ${m}`, run('umount', ['-l', m]));
  }
  for (const ns of netnsNames().filter((n) => !j.preexistingNetns.includes(n) && n.startsWith('cni-'))) {
    note(`ip netns delete ${ns}`, run('ip', ['netns', 'delete', ns]));
  }

  // 3. Network: the veths still on the bridge, then the bridge.
  const links = run('ip', ['-o', 'link', 'show', 'master', j.bridge]);
  if (links.ok) {
    for (const name of links.out
      .split('\n')
      .map((l) => /^\d+: ([^@:]+)/.exec(l)?.[1])
      .filter(Boolean)) {
      run('ip', ['link', 'delete', name as string]);
    }
  }
  if (run('ip', ['link', 'show', j.bridge]).ok)
    note(`ip link delete ${j.bridge}`, run('ip', ['link', 'delete', j.bridge]));

  // 4. nftables tables and iptables chains that did not exist before (kube-proxy's and the kubelet's).
  for (const t of nftTables().filter((t) => !j.preexistingNftTables.includes(t))) {
    const [family = '', name = ''] = t.split(' ');
    if (name.startsWith('kube') || name === 'kube-proxy')
      note(`nft delete table ${t}`, run('nft', ['delete', 'table', family, name]));
  }
  for (const [family, save, tool] of [
    ['ip', 'iptables-save', 'iptables'],
    ['ip6', 'ip6tables-save', 'ip6tables'],
  ] as const) {
    const dump = run(save, []);
    if (!dump.ok) continue;
    const created = parseIptablesChains(family, dump.out).filter(
      (c) => !j.preexistingChains.includes(c) && /\/(KUBE-|CNI-)/.test(c),
    );
    const byTable = new Map<string, Set<string>>();
    for (const c of created) {
      const [, table = '', chain = ''] = c.split('/');
      if (!byTable.has(table)) byTable.set(table, new Set());
      byTable.get(table)!.add(chain);
    }
    for (const [table, chains] of byTable) {
      for (const rule of rulesJumpingTo(dump.out, table, chains)) run(tool, ['-t', table, '-D', ...rule]);
      for (const chain of chains) run(tool, ['-t', table, '-F', chain]);
      for (const chain of chains)
        note(`${tool} -t ${table} -X ${chain}`, run(tool, ['-t', table, '-X', chain]));
    }
  }

  // iptables-nft leaves the tables and base chains it created (empty) behind: remove the new, empty ones.
  const inv = nftInventory();
  for (const chain of inv.chains.filter((c) => !j.preexistingNftChains.includes(c) && !inv.rules[c])) {
    const [family = '', table = '', name = ''] = chain.split(' ');
    run('nft', ['delete', 'chain', family, table, name]);
  }
  const remaining = nftInventory();
  for (const table of remaining.tables.filter((t) => !j.preexistingNftTables.includes(t))) {
    const [family = '', name = ''] = table.split(' ');
    if (!remaining.chains.some((c) => c.startsWith(`${family} ${name} `))) {
      note(`nft delete table ${table}`, run('nft', ['delete', 'table', family, name]));
    }
  }

  // 5. Sysctls, as they were.
  for (const [name, value] of Object.entries(j.sysctls)) {
    if (readSysctl(name) === value) continue;
    try {
      writeFileSync(sysctlFile(name), value);
    } catch (err) {
      errors.push(`sysctl ${name}=${value}: ${err instanceof Error ? err.message : err}`);
    }
  }

  // 6. Cgroups (now empty), directories the node created outside its root, then the root itself
  //    (the journal goes last, so an interrupted undo can run again).
  for (const h of cgroupHierarchies()) {
    for (const dir of cgroupTree(join(h, j.cgroupRoot))) {
      try {
        rmdirSync(dir);
      } catch (err) {
        errors.push(`rmdir ${dir}: ${err instanceof Error ? err.message : err}`);
      }
    }
  }
  for (const p of FIXED_HOST_PATHS) {
    if (j.preexistingPaths.includes(p) || !existsSync(p)) continue;
    for (const m of mountsUnder(p)) run('umount', ['-l', m]);
    rmSync(p, { recursive: true, force: true });
  }
  if (existsSync(j.root)) {
    for (const entry of readdirSync(j.root)) {
      if (entry !== 'host-journal.json') rmSync(join(j.root, entry), { recursive: true, force: true });
    }
  }
  if (errors.length === 0) rmSync(j.root, { recursive: true, force: true });
  return { killed, errors };
}
