/**
 * The WebUI API (webui.dev/v1alpha1): the single source of truth for the CRD
 * schema, the generated reference docs and the operator's TypeScript types.
 */
import { NODE_OPTIONS_ENV, settings, USER_ROLES } from '#contract';
import {
  type AnySchema,
  applyDefaults,
  array,
  boolean,
  type Input,
  integer,
  map,
  type Output,
  object,
  raw,
  string,
} from '../schema.ts';
import { OPERATOR_MANAGED_ENV } from './backend-env.ts';

export const GROUP = 'webui.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;
export const KIND = 'WebUI';
export const PLURAL = 'webuis';
export const SINGULAR = 'webui';
export const SHORT_NAMES = ['wui'];

// http(s)://host[:port][/path], no whitespace. The server strips trailing slashes.
const HTTP_URL_RULE = "self.matches('^https?://[^/?#\\\\s]+(/[^\\\\s]*)?$')";
const URL_MAX = 2048;

const httpUrl = (description: string) =>
  string({
    description,
    maxLength: URL_MAX,
    validations: [
      { rule: HTTP_URL_RULE, message: 'must be an http(s) URL such as http://ollama.ollama.svc:11434' },
      // The server appends /api/... to the URL: a query or fragment would end up in the middle.
      {
        rule: "!self.contains('?') && !self.contains('#')",
        message:
          'must not contain a query (?) or fragment (#): give the base URL Ollama answers on, such as http://ollama.ollama.svc:11434',
      },
    ],
  });

// An IPv4 or IPv6 address with an optional prefix length. Loose for IPv6 (the operator parses the
// list before rendering it and reports what the server could not read); CEL's isCIDR() needs 1.31.
const V4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])';
const IP_OR_CIDR_RULE = `self.matches('^(${V4_OCTET}([.]${V4_OCTET}){3}(/(3[0-2]|[12]?[0-9]))?|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*(/(12[0-8]|1[01][0-9]|[1-9]?[0-9]))?)$')`;

/**
 * The proxies the frontend trusts when spec.network.trustedProxies is unset: the private and
 * loopback ranges, where an in-cluster ingress controller (and a mesh sidecar) connects from.
 */
export const DEFAULT_TRUSTED_PROXIES = [
  '10.0.0.0/8',
  '172.16.0.0/12',
  '192.168.0.0/16',
  '100.64.0.0/10',
  '127.0.0.0/8',
  'fd00::/8',
  '::1',
];

const quantity = (description: string) =>
  raw<string | number>(
    {
      'x-kubernetes-int-or-string': true,
      anyOf: [{ type: 'integer' }, { type: 'string' }],
      pattern:
        '^(\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))(([KMGTPE]i)|[numkMGTPE]|([eE](\\+|-)?(([0-9]+(\\.[0-9]*)?)|(\\.[0-9]+))))?$',
    },
    { description },
  );

/** Memory the operator gives each container when spec.<component>.resources does not say. */
export const DEFAULT_MEMORY = {
  backend: { request: '128Mi', limit: '512Mi' },
  frontend: { request: '96Mi', limit: '256Mi' },
} as const;

const resources = (who: 'backend' | 'frontend') =>
  object(
    {
      requests: map(
        quantity('Amount of this resource the scheduler reserves, e.g. 100m CPU or 256Mi memory.'),
        {
          description: `Minimum resources reserved for each ${who} container.`,
          maxProperties: 16,
        },
      ),
      limits: map(quantity('Upper bound of this resource, e.g. 1 CPU or 1Gi memory.'), {
        description: `Maximum resources each ${who} container may use.`,
        maxProperties: 16,
      }),
    },
    {
      description: `CPU and memory requests and limits of the ${who} container (Kubernetes ResourceRequirements). Memory the spec does not set defaults to a request of ${DEFAULT_MEMORY[who].request} and a limit of ${DEFAULT_MEMORY[who].limit} (never a request above the limit). The Node heap cap (${NODE_OPTIONS_ENV}=--max-old-space-size) is half the memory limit: the rest is Node itself and buffers outside the heap.`,
    },
  );

const secretKeySelector = <const R extends boolean>(what: string, defaultKey: string, required: R) =>
  object(
    {
      name: string({
        description: `Name of the Secret, in the WebUI's namespace, holding ${what}.`,
        required: true,
        minLength: 1,
        maxLength: 253,
      }),
      key: string({
        description: `Key inside the Secret that holds ${what}.`,
        default: defaultKey,
        minLength: 1,
        maxLength: 253,
      }),
    },
    { description: `Reference to ${what} in a Secret.`, required },
  );

const replicas = (who: string, def: number) =>
  integer({
    description: `Number of ${who} pods.`,
    default: def,
    minimum: 0,
    maximum: 100,
    format: 'int32',
  });

const ollama = object(
  {
    baseUrl: httpUrl(
      `URL of the Ollama server, e.g. http://ollama.ollama.svc:11434. Sets ${settings.ollamaBaseUrl.env}. Use a Service DNS name: localhost inside a pod is the pod itself.`,
    ),
    baseUrls: array(httpUrl('URL of one Ollama server.'), {
      description: `Several Ollama servers whose models are merged (${settings.ollamaBaseUrls.env}). Mutually exclusive with baseUrl.`,
      minItems: 1,
      maxItems: 16,
    }),
    timeoutSeconds: integer({
      description: `Seconds one whole Ollama response may take, streaming included (${settings.clientTimeout.env}). 0 means no limit. Unset: the server default (${settings.clientTimeout.default}).`,
      minimum: 0,
      maximum: 86400,
      format: 'int32',
    }),
  },
  {
    description: 'Where the WebUI finds Ollama. Set exactly one of baseUrl or baseUrls.',
    required: true,
    validations: [
      {
        rule: 'has(self.baseUrl) != has(self.baseUrls)',
        message: 'set exactly one of spec.ollama.baseUrl or spec.ollama.baseUrls',
      },
    ],
  },
);

const auth = object(
  {
    enableSignup: boolean({
      description: `Allow public sign-up (${settings.enableSignup.env}). When set, admins cannot change it in the UI; unset leaves it to the admin settings. The first account can always sign up.`,
    }),
    defaultUserRole: string({
      description: `Role of accounts created after the first one (${settings.defaultUserRole.env}). When set, admins cannot change it in the UI.`,
      enum: USER_ROLES,
    }),
    secretKeyRef: secretKeySelector(
      `the key that signs session tokens (${settings.webuiSecretKey.env})`,
      'secret-key',
      false,
    ),
  },
  {
    description:
      'Sign-up and session settings. Without secretKeyRef the operator generates a key once into the Secret <name>-secret-key and keeps it.',
    default: {},
  },
);

const config = object(
  {
    resetToken: string({
      description: `Changing this to a new value rolls the backend once with ${settings.resetConfigOnStart.env}=true and ${settings.configResetToken.env}=<token>: the server deletes every setting saved from the admin UI (users and chats are kept), exactly once per token. status.configReset records completion.`,
      minLength: 1,
      maxLength: 63,
      pattern: '^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$',
    }),
  },
  { description: 'Settings about the persisted configuration of the WebUI.', default: {} },
);

const backend = object(
  {
    replicas: replicas('backend (API server)', 1),
    resources: resources('backend'),
  },
  { description: 'The backend Deployment <name>-backend (webui serve --mode api).', default: {} },
);

const frontend = object(
  {
    replicas: replicas('frontend', 1),
    resources: resources('frontend'),
  },
  { description: 'The frontend Deployment <name>-frontend (webui serve --mode frontend).', default: {} },
);

const persistence = object(
  {
    size: string({
      description: 'Size of the PersistentVolumeClaim <name>-data holding the SQLite database and uploads.',
      default: '5Gi',
      pattern: '^[0-9]+(\\.[0-9]+)?(Ki|Mi|Gi|Ti|Pi|Ei|k|M|G|T|P|E)?$',
      maxLength: 32,
    }),
    storageClassName: string({
      description: 'StorageClass of the claim. Unset: the cluster default.',
      maxLength: 253,
    }),
    retainOnDelete: boolean({
      description:
        'Keep the claim when the WebUI is deleted (like a StatefulSet claim), so an accidental delete loses no chats; a re-created WebUI with the same name reuses it. false: the claim is garbage-collected with the WebUI.',
      default: true,
    }),
  },
  {
    description: 'Storage for the SQLite database. Not used when spec.database is set.',
    default: {},
  },
);

const database = object(
  {
    urlSecretRef: secretKeySelector(
      `the Postgres URL (postgres://user:password@host:5432/db), passed as ${settings.databaseUrl.env}`,
      'url',
      true,
    ),
  },
  {
    description:
      'An external Postgres database instead of SQLite on a PVC. Required for more than one backend replica.',
  },
);
const service = object(
  {
    type: string({
      description: 'Type of the Service <name>-frontend that users reach.',
      enum: ['ClusterIP', 'NodePort', 'LoadBalancer'],
      default: 'ClusterIP',
    }),
    port: integer({
      description: 'Port of the Service <name>-frontend.',
      default: 80,
      minimum: 1,
      maximum: 65535,
      format: 'int32',
    }),
    annotations: map(string({ description: 'Annotation value.', maxLength: 4096 }), {
      description: 'Annotations added to the frontend Service (e.g. for a cloud load balancer).',
      maxProperties: 64,
    }),
  },
  { description: 'How the frontend is exposed inside the cluster.', default: {} },
);

const ingress = object(
  {
    enabled: boolean({ description: 'Create the Ingress <name>.', default: true }),
    host: string({
      description: 'Host name users open, e.g. chat.example.com.',
      maxLength: 253,
      pattern: '^(\\*\\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$',
    }),
    className: string({ description: 'IngressClass to use. Unset: the cluster default.', maxLength: 253 }),
    path: string({
      description: `Path prefix routed to the frontend, e.g. /chat. Not rewritten: the frontend serves the app under it (${settings.basePath.env}), /chat redirects to /chat/, and status.url ends in /chat/.`,
      default: '/',
      pattern: '^(/[A-Za-z0-9._~-]+)*/?$',
      maxLength: 1024,
    }),
    annotations: map(string({ description: 'Annotation value.', maxLength: 4096 }), {
      description: 'Annotations added to the Ingress (e.g. proxy timeouts long enough for streamed answers).',
      maxProperties: 64,
    }),
    tlsSecretName: string({
      description:
        'Secret holding the TLS certificate for host. Set: the Ingress serves HTTPS and status.url uses https.',
      maxLength: 253,
    }),
    apiRoute: string({
      description:
        'Where the Ingress sends the API (/api, /ollama, /openapi.json and /health under path). backend (default): straight to the backend Service, so every chat passes one proxy less (docs/benchmarks.md); the backend then serves under path and believes X-Forwarded-* from spec.network.trustedProxies, as the frontend does, and its NetworkPolicy admits the ingress controller (spec.network.ingressControllers). frontend: through the frontend forwarder like every other path.',
      enum: ['backend', 'frontend'],
      default: 'backend',
    }),
  },
  {
    description:
      'An optional Ingress in front of the frontend Service (and, for the API, the backend Service).',
    validations: [
      {
        rule: '!self.enabled || has(self.host)',
        message: 'spec.ingress.host is required when the Ingress is enabled',
      },
      {
        rule: "!has(self.path) || !self.path.matches('(^|/)[.][.]?(/|$)')",
        message: 'spec.ingress.path must not contain . or .. segments',
      },
    ],
  },
);

const network = object(
  {
    trustedProxies: array(
      string({
        description: 'An IP address (192.0.2.10) or CIDR range (10.42.0.0/16, fd00::/8).',
        maxLength: 49,
        validations: [
          {
            rule: IP_OR_CIDR_RULE,
            message: 'must be an IP address or CIDR range such as 10.42.0.0/16 or fd00::/8',
          },
        ],
      }),
      {
        description: `Proxies in front of the frontend (ingress controller, load balancer, mesh sidecar) whose X-Forwarded-For, -Proto and -Host the frontend believes: its ${settings.forwardedAllowIps.env}; the backend's too when the Ingress sends the API to it (spec.ingress.apiRoute). The client address, which the sign-in rate limit counts per client, is the rightmost X-Forwarded-For entry that is not one of these, so list every proxy hop and nothing a client can connect from. Unset: the private and loopback ranges (${DEFAULT_TRUSTED_PROXIES.join(', ')}), where an in-cluster ingress controller connects from; narrow it to your ingress controller's pod range. An empty list trusts no proxy: every user counts as the address that connects to the frontend.`,
        maxItems: 32,
      },
    ),
    ingressControllers: array(
      object(
        {
          namespaceLabels: map(string({ description: 'Label value.', maxLength: 63 }), {
            description:
              "Labels of the ingress controller's namespace, e.g. kubernetes.io/metadata.name: ingress-nginx.",
            maxProperties: 16,
          }),
          podLabels: map(string({ description: 'Label value.', maxLength: 63 }), {
            description:
              "Labels of the ingress controller's pods. With namespaceLabels: those pods in those namespaces; alone: in this WebUI's namespace.",
            maxProperties: 16,
          }),
        },
        {
          description: 'One ingress controller, by the labels of its namespace, of its pods, or both.',
          validations: [
            {
              rule: 'has(self.namespaceLabels) || has(self.podLabels)',
              message: 'an ingress controller needs namespaceLabels, podLabels or both',
            },
          ],
        },
      ),
      {
        description:
          "The ingress controllers the backend's NetworkPolicy admits when the Ingress sends the API to the backend (spec.ingress.apiRoute: backend). Unset: any source may connect to the backend's port, as to the frontend's, since the operator cannot know where your controller runs (host-network controllers connect from node addresses); list yours to keep everything else out.",
        maxItems: 8,
      },
    ),
  },
  {
    description:
      'Client addresses behind proxies, and who may reach the backend. The backend always gets a NetworkPolicy <name>-backend that admits the frontend pods (and, as every NetworkPolicy does, the node, so the kubelet probes), plus the ingress controllers when the Ingress sends the API to the backend.',
    default: {},
  },
);

const envVar = object(
  {
    name: string({
      description: 'Environment variable name.',
      required: true,
      minLength: 1,
      maxLength: 256,
      pattern: '^[-._a-zA-Z][-._a-zA-Z0-9]*$',
    }),
    value: string({ description: 'Literal value.', maxLength: 32768 }),
    valueFrom: raw<Record<string, unknown>>(
      { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      {
        description:
          'Source of the value (Kubernetes EnvVarSource: secretKeyRef, configMapKeyRef, fieldRef, ...).',
      },
    ),
  },
  { description: 'One extra environment variable.' },
);

const toleration = object(
  {
    key: string({
      description: 'Taint key the toleration applies to; empty matches all keys.',
      maxLength: 316,
    }),
    operator: string({ description: 'How key and value are compared.', enum: ['Exists', 'Equal'] }),
    value: string({ description: 'Taint value the toleration matches.', maxLength: 63 }),
    effect: string({
      description: 'Taint effect to match; empty matches all effects.',
      enum: ['NoSchedule', 'PreferNoSchedule', 'NoExecute'],
    }),
    tolerationSeconds: integer({
      description: 'For NoExecute: how long the pod stays bound after the taint appears.',
      format: 'int64',
    }),
  },
  { description: 'A Kubernetes Toleration.' },
);

const managedEnvList = `[${OPERATOR_MANAGED_ENV.map((n) => `'${n}'`).join(', ')}]`;

export const webuiSpecSchema = object(
  {
    image: string({
      description:
        'Container image of the WebUI (entrypoint `webui`). Unset: the operator default (--default-image).',
      maxLength: 512,
    }),
    imagePullPolicy: string({
      description: 'When the kubelet pulls the image.',
      enum: ['Always', 'IfNotPresent', 'Never'],
    }),
    imagePullSecrets: array(
      object(
        {
          name: string({ description: 'Name of a docker-registry Secret.', required: true, maxLength: 253 }),
        },
        { description: 'A registry credential Secret.' },
      ),
      { description: 'Registry credentials for pulling the image.', maxItems: 8 },
    ),
    ollama,
    auth,
    config,
    backend,
    frontend,
    persistence,
    database,
    service,
    ingress,
    network,
    extraEnv: array(envVar, {
      description: `Extra environment variables for the backend container, e.g. ${settings.jwtExpiresIn.env}. Variables the operator renders from typed fields cannot be set here.`,
      maxItems: 64,
      extra: { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] },
      validations: [
        {
          rule: `self.all(e, !(e.name in ${managedEnvList}))`,
          message: `spec.extraEnv may not set variables the operator manages (${OPERATOR_MANAGED_ENV.join(', ')}); use the typed spec fields`,
        },
      ],
    }),
    nodeSelector: map(string({ description: 'Required node label value.', maxLength: 63 }), {
      description: 'Node labels the pods must be scheduled on.',
      maxProperties: 32,
    }),
    tolerations: array(toleration, { description: 'Taints the pods tolerate.', maxItems: 32 }),
    affinity: raw<Record<string, unknown>>(
      { type: 'object', 'x-kubernetes-preserve-unknown-fields': true },
      { description: 'Kubernetes Affinity (nodeAffinity, podAffinity, podAntiAffinity) for all pods.' },
    ),
  },
  {
    description: 'Desired state of the WebUI.',
    required: true,
    validations: [
      {
        rule: 'self.backend.replicas <= 1 || has(self.database)',
        message:
          'spec.backend.replicas > 1 needs an external database: set spec.database.urlSecretRef (SQLite cannot be shared between pods)',
      },
    ],
  },
);

const condition = object(
  {
    type: string({ description: 'Condition type, e.g. Ready.', required: true, maxLength: 316 }),
    status: string({
      description: 'True, False or Unknown.',
      required: true,
      enum: ['True', 'False', 'Unknown'],
    }),
    reason: string({
      description: 'CamelCase machine-readable reason of the last transition.',
      required: true,
      maxLength: 1024,
    }),
    message: string({ description: 'Human-readable details.', required: true, maxLength: 32768 }),
    lastTransitionTime: string({
      description: 'When status last changed.',
      required: true,
      format: 'date-time',
    }),
    observedGeneration: integer({
      description: 'metadata.generation the condition was computed from.',
      format: 'int64',
      minimum: 0,
    }),
  },
  { description: 'A metav1.Condition.' },
);

const replicaStatus = (who: string) =>
  object(
    {
      replicas: integer({ description: `Desired ${who} pods.`, format: 'int32' }),
      readyReplicas: integer({ description: `Ready ${who} pods.`, format: 'int32' }),
      updatedReplicas: integer({ description: `${who} pods running the current template.`, format: 'int32' }),
    },
    { description: `Observed state of the ${who} Deployment.` },
  );

export const webuiStatusSchema = object(
  {
    observedGeneration: integer({
      description: 'metadata.generation of the spec this status describes.',
      format: 'int64',
    }),
    url: string({ description: 'Where users reach the WebUI (Ingress URL, else the Service DNS URL).' }),
    backend: replicaStatus('backend'),
    frontend: replicaStatus('frontend'),
    configHash: string({
      description: 'Hash of the configuration the backend pods see; a change rolls them.',
    }),
    configReset: object(
      {
        token: string({
          description: 'The spec.config.resetToken whose reset rollout completed.',
          required: true,
        }),
        completedAt: string({
          description: 'When that rollout completed.',
          format: 'date-time',
          required: true,
        }),
      },
      { description: 'The last completed config reset.' },
    ),
    conditions: array(condition, {
      description: 'Ready, Progressing, Degraded, OllamaReachable and ConfigReset.',
      extra: { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] },
    }),
  },
  { description: 'Observed state of the WebUI, written by the operator.' },
);

export type WebUISpec = Output<typeof webuiSpecSchema>;
export type WebUISpecInput = Input<typeof webuiSpecSchema>;
export type WebUIStatus = Output<typeof webuiStatusSchema>;
export type Condition = Output<typeof condition>;
export type ConditionStatus = Condition['status'];

export interface ObjectMeta {
  name: string;
  namespace: string;
  uid?: string;
  generation?: number;
  resourceVersion?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  deletionTimestamp?: string;
}

export interface WebUI {
  apiVersion: typeof API_VERSION;
  kind: typeof KIND;
  metadata: ObjectMeta;
  spec: WebUISpec;
  status?: WebUIStatus;
}

/** Fills in schema defaults as the API server would (for objects that did not come from one). */
export function defaultSpec(input: WebUISpecInput): WebUISpec {
  return applyDefaults(webuiSpecSchema, input) as WebUISpec;
}

export const CONDITION_TYPES = [
  'Ready',
  'Progressing',
  'Degraded',
  'OllamaReachable',
  'ConfigReset',
] as const;
export type ConditionType = (typeof CONDITION_TYPES)[number];

export const schemas: { spec: AnySchema; status: AnySchema } = {
  spec: webuiSpecSchema,
  status: webuiStatusSchema,
};
