// Pure renderers for the dev cluster's node: containerd, the CNI network, kubelet and kube-proxy
// configuration, and the in-cluster add-ons (CoreDNS, the default StorageClass). Every value that
// touches the host's network comes from NodeLayout, so the network rules (198.18.0.0/16 only, no
// default route in pods, no masquerade) are visible in one place and unit-tested.
import { stringify } from 'yaml';

/** Names and paths one node uses. Everything the node writes lives under `root`. */
export interface NodeLayout {
  /** Absolute state dir of the node (containerd, kubelet, logs, CNI state). */
  root: string;
  nodeName: string;
  /** The machine's own interface address: the kubelet and kube-proxy serve on it. */
  hostIp: string;
  /** 198.18.0.0/17: the pod range the controller manager carves node ranges from. */
  podCidr: string;
  /** 198.18.128.0/17. */
  serviceCidr: string;
  /** The only route pods get: the range that holds both pods and Services. */
  podRoute: string;
  clusterDns: string;
  clusterDomain: string;
  /** Linux bridge the CNI bridge plugin creates for pods. */
  bridge: string;
  /** Cgroup (under every hierarchy) that holds all pods and containerd's shims: one place to kill and remove. */
  cgroupRoot: string;
  /** Where runc, the CNI plugins and our binaries are. */
  cniBinDir: string;
  binDir: string;
  pauseImage: string;
  kubeletPort: number;
  kubeletHealthzPort: number;
  proxyHealthzPort: number;
  proxyMetricsPort: number;
}

export const DEFAULT_NETWORK = {
  podCidr: '198.18.0.0/17',
  serviceCidr: '198.18.128.0/17',
  podRoute: '198.18.0.0/16',
  clusterDns: '198.18.128.10',
  clusterDomain: 'cluster.local',
} as const;

export const paths = (l: NodeLayout) => ({
  containerdConfig: `${l.root}/containerd/config.toml`,
  containerdRoot: `${l.root}/containerd/root`,
  containerdState: `${l.root}/containerd/state`,
  containerdSocket: `${l.root}/containerd/containerd.sock`,
  runcRoot: `${l.root}/containerd/runc`,
  cniConfDir: `${l.root}/cni/net.d`,
  cniDataDir: `${l.root}/cni/networks`,
  cniCacheDir: `${l.root}/cni/cache`,
  kubeletRoot: `${l.root}/kubelet`,
  kubeletConfig: `${l.root}/etc/kubelet.yaml`,
  kubeletKubeconfig: `${l.root}/etc/kubelet.kubeconfig`,
  kubeletCert: `${l.root}/etc/kubelet.crt`,
  kubeletKey: `${l.root}/etc/kubelet.key`,
  proxyConfig: `${l.root}/etc/kube-proxy.yaml`,
  proxyKubeconfig: `${l.root}/etc/kube-proxy.kubeconfig`,
  caFile: `${l.root}/etc/ca.crt`,
  podLogs: `${l.root}/pod-logs`,
  logDir: `${l.root}/logs`,
  volumes: `${l.root}/volumes`,
});

const tomlString = (s: string) => JSON.stringify(s);

/**
 * containerd 2.x: cgroupfs, overlayfs, the locally built pause image pinned as the sandbox image,
 * every path under the node's root, and the settings this kind of VM needs.
 */
export function renderContainerdConfig(l: NodeLayout): string {
  const p = paths(l);
  return `# Written by test/harness/node (the dev cluster's node). Regenerated at every start.
version = 3
root = ${tomlString(p.containerdRoot)}
state = ${tomlString(p.containerdState)}

[grpc]
  address = ${tomlString(p.containerdSocket)}

[ttrpc]
  address = ${tomlString(`${p.containerdSocket}.ttrpc`)}

[debug]
  level = "warn"

[plugins.'io.containerd.cri.v1.images']
  snapshotter = "overlayfs"
  # No registry is reachable: every image is imported before use, and never pulled.
  [plugins.'io.containerd.cri.v1.images'.pinned_images]
    sandbox = ${tomlString(l.pauseImage)}

[plugins.'io.containerd.cri.v1.runtime']
  # The VM lacks CAP_SYS_RESOURCE, so runc cannot lower a score below containerd's own; without
  # this every sandbox fails with "can't get final child's PID from pipe: EOF".
  restrict_oom_score_adj = true
  # Network namespaces are bind-mounted under the state dir, not /var/run/netns.
  netns_mounts_under_state_dir = true
  enable_unprivileged_ports = false
  enable_unprivileged_icmp = false
  cdi_spec_dirs = []
  [plugins.'io.containerd.cri.v1.runtime'.cni]
    bin_dirs = [${tomlString(l.cniBinDir)}]
    conf_dir = ${tomlString(p.cniConfDir)}
    max_conf_num = 1
  [plugins.'io.containerd.cri.v1.runtime'.containerd]
    default_runtime_name = "runc"
    [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
      [plugins.'io.containerd.cri.v1.runtime'.containerd.runtimes.runc.options]
        SystemdCgroup = false
        BinaryName = "runc"
        Root = ${tomlString(p.runcRoot)}
        # Shims join the node's cgroup, so stopping the node can find and kill every one of them.
        ShimCgroup = ${tomlString(`/${l.cgroupRoot}/shims`)}

[plugins.'io.containerd.grpc.v1.cri']
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
`;
}

/**
 * The pod network: the CNI bridge with host-local addresses from the node's range. `ipMasq: false`
 * and a single route to the 198.18.0.0/16 range (no default route): pods cannot send anything off
 * the machine. Only the bridge, host-local and loopback plugins run (no portmap, no firewall
 * plugin), so the network adds no iptables rules of its own.
 */
export function renderCniConfig(l: NodeLayout, nodePodCidr: string): string {
  return `${JSON.stringify(
    {
      cniVersion: '1.0.0',
      name: 'webui-dev',
      plugins: [
        {
          type: 'bridge',
          bridge: l.bridge,
          isGateway: true,
          isDefaultGateway: false,
          ipMasq: false,
          hairpinMode: true,
          ipam: {
            type: 'host-local',
            ranges: [[{ subnet: nodePodCidr }]],
            routes: [{ dst: l.podRoute }],
            dataDir: paths(l).cniDataDir,
          },
        },
      ],
    },
    null,
    2,
  )}\n`;
}

/** KubeletConfiguration: real authn/authz, cgroupfs under the node's cgroup, nothing that touches the host it need not. */
export function renderKubeletConfig(l: NodeLayout): string {
  const p = paths(l);
  return stringify({
    apiVersion: 'kubelet.config.k8s.io/v1beta1',
    kind: 'KubeletConfiguration',
    address: l.hostIp,
    port: l.kubeletPort,
    readOnlyPort: 0,
    healthzBindAddress: '127.0.0.1',
    healthzPort: l.kubeletHealthzPort,
    tlsCertFile: p.kubeletCert,
    tlsPrivateKeyFile: p.kubeletKey,
    authentication: {
      anonymous: { enabled: false },
      webhook: { enabled: true },
      x509: { clientCAFile: p.caFile },
    },
    authorization: { mode: 'Webhook' },
    containerRuntimeEndpoint: `unix://${p.containerdSocket}`,
    // This kind of VM mounts cgroup v1; the kubelet refuses it unless told otherwise.
    failCgroupV1: false,
    cgroupDriver: 'cgroupfs',
    cgroupRoot: `/${l.cgroupRoot}`,
    failSwapOn: false,
    // The VM lacks CAP_SYS_RESOURCE: the kubelet cannot lower its own OOM score.
    oomScoreAdj: 0,
    clusterDNS: [l.clusterDns],
    clusterDomain: l.clusterDomain,
    resolvConf: '/etc/resolv.conf',
    podLogsDir: p.podLogs,
    registerNode: true,
    rotateCertificates: false,
    serverTLSBootstrap: false,
    // The images are imported, never pulled: image GC must not remove them while they are unused.
    imageGCHighThresholdPercent: 100,
    imageGCLowThresholdPercent: 99,
    // A shared development machine: evict only when it is really out of room.
    evictionHard: {
      'memory.available': '100Mi',
      'nodefs.available': '1%',
      'nodefs.inodesFree': '1%',
      'imagefs.available': '1%',
    },
    serializeImagePulls: false,
    maxPods: 110,
    // Status within seconds, so tests see Ready and pod changes quickly.
    nodeStatusUpdateFrequency: '4s',
    syncFrequency: '10s',
    fileCheckFrequency: '10s',
  });
}

/** KubeProxyConfiguration: nftables, conntrack left alone, node ports only on the machine's address. */
export function renderKubeProxyConfig(l: NodeLayout): string {
  return stringify({
    apiVersion: 'kubeproxy.config.k8s.io/v1alpha1',
    kind: 'KubeProxyConfiguration',
    clientConnection: { kubeconfig: paths(l).proxyKubeconfig },
    hostnameOverride: l.nodeName,
    bindAddress: l.hostIp,
    healthzBindAddress: `127.0.0.1:${l.proxyHealthzPort}`,
    metricsBindAddress: `127.0.0.1:${l.proxyMetricsPort}`,
    mode: 'nftables',
    clusterCIDR: l.podCidr,
    nodePortAddresses: [`${l.hostIp}/32`],
    // Zero means "leave the host's conntrack settings as they are".
    conntrack: {
      maxPerCore: 0,
      min: 0,
      tcpEstablishedTimeout: '0s',
      tcpCloseWaitTimeout: '0s',
    },
    oomScoreAdj: 0,
  });
}

export const COREDNS_PORT = 1053;

/** CoreDNS as cluster add-on: answers cluster.local only (pods have no route to an upstream anyway). */
export function renderCoreDnsManifests(l: NodeLayout, image: string): Record<string, unknown>[] {
  const labels = { 'k8s-app': 'kube-dns' };
  const corefile = `.:${COREDNS_PORT} {
    errors
    health :8080
    ready :8181
    kubernetes ${l.clusterDomain} in-addr.arpa ip6.arpa {
        pods insecure
        fallthrough in-addr.arpa ip6.arpa
    }
    cache 30
    loadbalance
}
`;
  return [
    { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'coredns', namespace: 'kube-system' } },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRole',
      metadata: { name: 'system:coredns' },
      rules: [
        { apiGroups: [''], resources: ['services', 'pods', 'namespaces'], verbs: ['list', 'watch'] },
        { apiGroups: ['discovery.k8s.io'], resources: ['endpointslices'], verbs: ['list', 'watch'] },
      ],
    },
    {
      apiVersion: 'rbac.authorization.k8s.io/v1',
      kind: 'ClusterRoleBinding',
      metadata: { name: 'system:coredns' },
      roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: 'system:coredns' },
      subjects: [{ kind: 'ServiceAccount', name: 'coredns', namespace: 'kube-system' }],
    },
    {
      apiVersion: 'v1',
      kind: 'ConfigMap',
      metadata: { name: 'coredns', namespace: 'kube-system' },
      data: { Corefile: corefile },
    },
    {
      apiVersion: 'apps/v1',
      kind: 'Deployment',
      metadata: { name: 'coredns', namespace: 'kube-system', labels },
      spec: {
        replicas: 1,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: 'coredns',
            priorityClassName: 'system-cluster-critical',
            dnsPolicy: 'Default',
            securityContext: { runAsNonRoot: true, runAsUser: 65532, runAsGroup: 65532 },
            containers: [
              {
                name: 'coredns',
                image,
                imagePullPolicy: 'Never',
                args: ['-conf', '/etc/coredns/Corefile'],
                ports: [
                  { name: 'dns', containerPort: COREDNS_PORT, protocol: 'UDP' },
                  { name: 'dns-tcp', containerPort: COREDNS_PORT, protocol: 'TCP' },
                ],
                securityContext: {
                  allowPrivilegeEscalation: false,
                  readOnlyRootFilesystem: true,
                  capabilities: { drop: ['ALL'] },
                },
                resources: { requests: { cpu: '50m', memory: '32Mi' }, limits: { memory: '128Mi' } },
                livenessProbe: { httpGet: { path: '/health', port: 8080 }, periodSeconds: 10 },
                readinessProbe: { httpGet: { path: '/ready', port: 8181 }, periodSeconds: 2 },
                volumeMounts: [{ name: 'config', mountPath: '/etc/coredns', readOnly: true }],
              },
            ],
            volumes: [{ name: 'config', configMap: { name: 'coredns' } }],
          },
        },
      },
    },
    {
      apiVersion: 'v1',
      kind: 'Service',
      metadata: { name: 'kube-dns', namespace: 'kube-system', labels },
      spec: {
        selector: labels,
        clusterIP: l.clusterDns,
        ports: [
          { name: 'dns', port: 53, targetPort: COREDNS_PORT, protocol: 'UDP' },
          { name: 'dns-tcp', port: 53, targetPort: COREDNS_PORT, protocol: 'TCP' },
        ],
      },
    },
  ];
}

export const STORAGE_CLASS = 'local-dev';
export const PROVISIONER = 'webui.dev/local-dev';

/** The default StorageClass; its volumes are provisioned by test/harness/node/provisioner.ts. */
export function renderStorageClass(): Record<string, unknown> {
  return {
    apiVersion: 'storage.k8s.io/v1',
    kind: 'StorageClass',
    metadata: {
      name: STORAGE_CLASS,
      annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' },
    },
    provisioner: PROVISIONER,
    reclaimPolicy: 'Delete',
    volumeBindingMode: 'Immediate',
  };
}
