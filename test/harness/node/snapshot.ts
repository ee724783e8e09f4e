// What the host looks like, in the terms the node's network rules and cleanup promise: compare a
// snapshot taken before a node started with one taken after it stopped, and they must be equal.
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  cgroupHierarchies,
  FIXED_HOST_PATHS,
  processesMentioning,
  readSysctl,
  WATCHED_SYSCTLS,
} from './host.ts';

export interface HostSnapshot {
  sysctls: Record<string, string | undefined>;
  links: string[];
  netns: string[];
  iptables: string;
  ip6tables: string;
  nftables: string;
  mounts: string[];
  cgroups: string[];
  paths: string[];
  /** Processes naming the node root: must be empty once a node stopped. */
  nodeProcesses: number[];
}

const out = (cmd: string, args: string[]) => spawnSync(cmd, args, { encoding: 'utf8' }).stdout ?? '';

/** iptables-save without its timestamps and packet counters, which change on their own. */
export function normalizeIptablesSave(save: string): string {
  return save
    .split('\n')
    .filter((l) => !l.startsWith('#'))
    .map((l) => l.replace(/\[\d+:\d+\]/g, '[0:0]'))
    .join('\n');
}

export function normalizeNftRuleset(ruleset: string): string {
  return ruleset.replace(/counter packets \d+ bytes \d+/g, 'counter');
}

/**
 * Where the node mounts things: its root, the fixed host paths, network namespace files and cgroups.
 * Mounts elsewhere (an image build in /tmp, say) are other programs' business.
 */
export function nodeMountArea(mountPoint: string, root: string): boolean {
  return [root, ...FIXED_HOST_PATHS, '/run/netns', '/sys/fs/cgroup'].some(
    (area) => mountPoint === area || mountPoint.startsWith(`${area}/`),
  );
}

export function hostSnapshot(root: string, cgroupRoot: string): HostSnapshot {
  return {
    sysctls: Object.fromEntries(WATCHED_SYSCTLS.map((n) => [n, readSysctl(n)])),
    links: out('ip', ['-o', 'link', 'show'])
      .split('\n')
      .map((l) => /^\d+: ([^:@]+)/.exec(l)?.[1])
      .filter((n): n is string => Boolean(n))
      .sort(),
    netns: out('ip', ['netns', 'list']).split('\n').filter(Boolean).sort(),
    iptables: normalizeIptablesSave(out('iptables-save', [])),
    ip6tables: normalizeIptablesSave(out('ip6tables-save', [])),
    nftables: normalizeNftRuleset(out('nft', ['list', 'ruleset'])),
    mounts: readFileSync('/proc/self/mountinfo', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[4])
      .filter((m): m is string => m !== undefined && m !== '' && nodeMountArea(m, root))
      .sort(),
    cgroups: cgroupHierarchies()
      .map((h) => join(h, cgroupRoot))
      .filter((d) => existsSync(d)),
    paths: [...FIXED_HOST_PATHS, root].filter((p) => existsSync(p)),
    nodeProcesses: processesMentioning(root),
  };
}
