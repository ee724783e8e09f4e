import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { firstServiceIp } from '../pki.ts';
import {
  DEFAULT_NETWORK,
  type NodeLayout,
  paths,
  renderCniConfig,
  renderContainerdConfig,
  renderCoreDnsManifests,
  renderKubeletConfig,
  renderKubeProxyConfig,
  renderStorageClass,
} from './config.ts';

const layout: NodeLayout = {
  root: '/var/lib/webui-dev-node',
  nodeName: 'dev-node',
  hostIp: '192.0.2.2',
  ...DEFAULT_NETWORK,
  bridge: 'webui-cni0',
  cgroupRoot: 'webui-dev-node',
  cniBinDir: '/usr/lib/cni',
  binDir: '/repo/bin',
  pauseImage: 'localhost/webui-operator/pause:dev',
  kubeletPort: 40001,
  kubeletHealthzPort: 40002,
  proxyHealthzPort: 40003,
  proxyMetricsPort: 40004,
};

/** Inside 198.18.0.0/16, the range reserved for network tests. */
const inTestRange = (cidrOrIp: string) => /^198\.1[89]\./.test(cidrOrIp);

describe('the network rules', () => {
  it('keeps pods and Services in 198.18.0.0/16, split in two /17s', () => {
    expect(DEFAULT_NETWORK.podCidr).toBe('198.18.0.0/17');
    expect(DEFAULT_NETWORK.serviceCidr).toBe('198.18.128.0/17');
    expect(DEFAULT_NETWORK.podRoute).toBe('198.18.0.0/16');
    expect(inTestRange(DEFAULT_NETWORK.clusterDns)).toBe(true);
    expect(DEFAULT_NETWORK.clusterDns.startsWith('198.18.128.')).toBe(true);
  });

  it('gives pods one route to 198.18.0.0/16, no default route and no masquerade', () => {
    const cni = JSON.parse(renderCniConfig(layout, '198.18.0.0/24')) as {
      plugins: {
        type: string;
        ipMasq?: boolean;
        isDefaultGateway?: boolean;
        ipam: { routes: { dst: string }[]; ranges: { subnet: string }[][] };
      }[];
    };
    expect(cni.plugins.map((p) => p.type)).toEqual(['bridge']);
    const bridge = cni.plugins[0]!;
    expect(bridge.ipMasq).toBe(false);
    expect(bridge.isDefaultGateway).toBe(false);
    expect(bridge.ipam.routes).toEqual([{ dst: '198.18.0.0/16' }]);
    expect(bridge.ipam.routes.some((r) => r.dst === '0.0.0.0/0')).toBe(false);
    expect(bridge.ipam.ranges).toEqual([[{ subnet: '198.18.0.0/24' }]]);
  });

  it('keeps the API server certificate valid for the kubernetes Service address', () => {
    expect(firstServiceIp('198.18.128.0/17')).toBe('198.18.128.1');
    expect(firstServiceIp('10.0.0.0/24')).toBe('10.0.0.1');
    expect(() => firstServiceIp('198.18.128.0')).toThrow(/CIDR/);
  });
});

describe('containerd', () => {
  const toml = renderContainerdConfig(layout);
  it('has the settings this kind of VM needs', () => {
    expect(toml).toMatch(/restrict_oom_score_adj = true/);
    expect(toml).toMatch(/SystemdCgroup = false/);
    expect(toml).toMatch(/snapshotter = "overlayfs"/);
    expect(toml).toContain('sandbox = "localhost/webui-operator/pause:dev"');
  });
  it('keeps its state, socket, runc root and netns mounts under the node root', () => {
    const p = paths(layout);
    for (const path of [p.containerdRoot, p.containerdState, p.containerdSocket, p.runcRoot, p.cniConfDir]) {
      expect(path.startsWith(`${layout.root}/`)).toBe(true);
      expect(toml).toContain(JSON.stringify(path));
    }
    expect(toml).toMatch(/netns_mounts_under_state_dir = true/);
    expect(toml).toContain('ShimCgroup = "/webui-dev-node/shims"');
  });
});

describe('kubelet and kube-proxy', () => {
  it('kubelet: cgroup v1 allowed, real authn/authz, DNS in the Service range, no image GC', () => {
    const c = parse(renderKubeletConfig(layout)) as Record<string, unknown>;
    expect(c.failCgroupV1).toBe(false);
    expect(c.cgroupDriver).toBe('cgroupfs');
    expect(c.cgroupRoot).toBe('/webui-dev-node');
    expect(c.readOnlyPort).toBe(0);
    expect(c.authentication).toMatchObject({ anonymous: { enabled: false }, webhook: { enabled: true } });
    expect(c.authorization).toEqual({ mode: 'Webhook' });
    expect(c.clusterDNS).toEqual(['198.18.128.10']);
    expect(c.address).toBe('192.0.2.2');
    expect(c.imageGCHighThresholdPercent).toBe(100);
    expect(String(c.podLogsDir).startsWith(layout.root)).toBe(true);
  });
  it('kube-proxy: nftables, conntrack left alone, node ports only on the machine address', () => {
    const c = parse(renderKubeProxyConfig(layout)) as Record<string, unknown>;
    expect(c.mode).toBe('nftables');
    expect(c.clusterCIDR).toBe('198.18.0.0/17');
    expect(c.nodePortAddresses).toEqual(['192.0.2.2/32']);
    expect(c.conntrack).toEqual({
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: '0s',
      tcpCloseWaitTimeout: '0s',
    });
    expect(String(c.healthzBindAddress).startsWith('127.0.0.1:')).toBe(true);
  });
});

describe('add-ons', () => {
  it('CoreDNS: the cluster DNS address, non-root on an unprivileged port, read-only root', () => {
    const objects = renderCoreDnsManifests(layout, 'localhost/coredns:dev') as {
      kind: string;
      spec?: {
        clusterIP?: string;
        template?: { spec: { containers: { securityContext: unknown; image: string }[] } };
      };
    }[];
    const svc = objects.find((o) => o.kind === 'Service');
    expect(svc?.spec?.clusterIP).toBe('198.18.128.10');
    const pod = objects.find((o) => o.kind === 'Deployment')?.spec?.template?.spec;
    expect(pod?.containers[0]?.image).toBe('localhost/coredns:dev');
    expect(pod?.containers[0]?.securityContext).toMatchObject({
      readOnlyRootFilesystem: true,
      capabilities: { drop: ['ALL'] },
    });
  });
  it('a default StorageClass', () => {
    const sc = renderStorageClass() as { metadata: { annotations: Record<string, string> } };
    expect(sc.metadata.annotations['storageclass.kubernetes.io/is-default-class']).toBe('true');
  });
});
