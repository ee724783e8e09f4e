// The certificates and keys a throw-away control plane needs: one CA (for both
// serving and client certificates), the kube-apiserver serving certificate,
// client certificates for the admin user and kube-controller-manager, and the
// service-account token signing key pair. ECDSA P-256 keys are generated in
// about a millisecond, so every plane gets fresh ones.
import { generateKeyPairSync, type KeyObject, randomBytes, sign } from 'node:crypto';
import { isIP, isIPv4, isIPv6 } from 'node:net';
import {
  bitStringBytes,
  boolean,
  explicit,
  implicitPrimitive,
  namedBits,
  octetString,
  oid,
  sequence,
  set,
  smallInteger,
  time,
  unsignedInteger,
  utf8String,
} from './der.ts';

const OID = {
  ecdsaWithSha256: '1.2.840.10045.4.3.2',
  commonName: '2.5.4.3',
  organization: '2.5.4.10',
  basicConstraints: '2.5.29.19',
  keyUsage: '2.5.29.15',
  extKeyUsage: '2.5.29.37',
  subjectAltName: '2.5.29.17',
  serverAuth: '1.3.6.1.5.5.7.3.1',
  clientAuth: '1.3.6.1.5.5.7.3.2',
} as const;

// KeyUsage bit numbers (RFC 5280 §4.2.1.3).
const DIGITAL_SIGNATURE = 0;
const KEY_ENCIPHERMENT = 2;
const KEY_CERT_SIGN = 5;
const CRL_SIGN = 6;

export interface Subject {
  commonName: string;
  /** Kubernetes reads each O as a group of the authenticated user. */
  organizations?: string[];
}

export interface CertKeyPair {
  certPem: string;
  keyPem: string;
}

export interface CertificateAuthority extends CertKeyPair {
  key: KeyObject;
  subjectDer: Buffer;
}

export interface LeafOptions {
  subject: Subject;
  usage: 'server' | 'client';
  /** DNS names and IP addresses (v4 or v6) for the subjectAltName. */
  hosts?: string[];
  validForMs?: number;
}

const DAY = 24 * 60 * 60 * 1000;
// Long enough for any test run or dev session, short enough to be obviously throw-away.
const DEFAULT_VALIDITY = 7 * DAY;

export function encodeName(subject: Subject): Buffer {
  const rdn = (type: string, value: string) => set(sequence(oid(type), utf8String(value)));
  return sequence(
    ...(subject.organizations ?? []).map((o) => rdn(OID.organization, o)),
    rdn(OID.commonName, subject.commonName),
  );
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical
    ? sequence(oid(id), boolean(true), octetString(value))
    : sequence(oid(id), octetString(value));
}

/** IP literal to its 4 or 16 network-order bytes. */
export function ipBytes(ip: string): Buffer {
  if (isIPv4(ip)) return Buffer.from(ip.split('.').map((p) => Number.parseInt(p, 10)));
  if (!isIPv6(ip)) throw new Error(`not an IP address: ${ip}`);
  // An embedded IPv4 tail (::ffff:1.2.3.4) is two 16-bit words.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(ip)?.[1];
  const text = v4
    ? ip.slice(0, -v4.length) +
      ipBytes(v4)
        .toString('hex')
        .replace(/(....)(....)/, '$1:$2')
    : ip;
  const [head = '', tail = ''] = text.includes('::') ? text.split('::') : [text, ''];
  const words = (s: string) => (s ? s.split(':').map((w) => Number.parseInt(w, 16)) : []);
  const h = words(head);
  const t = words(tail);
  const all = [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = Buffer.alloc(16);
  for (const [i, w] of all.entries()) out.writeUInt16BE(w, i * 2);
  return out;
}

function subjectAltName(hosts: string[]): Buffer {
  return sequence(
    ...hosts.map((h) =>
      isIP(h) ? implicitPrimitive(7, ipBytes(h)) : implicitPrimitive(2, Buffer.from(h, 'ascii')),
    ),
  );
}

function newKey(): { privateKey: KeyObject; publicKey: KeyObject } {
  return generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
}

function serialNumber(): Buffer {
  const b = randomBytes(16);
  b[0] = (b[0]! & 0x7f) | 0x40; // positive and exactly 16 bytes long
  return unsignedInteger(b);
}

function toPem(label: string, der: Buffer): string {
  const lines = der.toString('base64').match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

interface CertParams {
  issuerDer: Buffer;
  subjectDer: Buffer;
  publicKey: KeyObject;
  signingKey: KeyObject;
  extensions: Buffer[];
  validForMs: number;
}

function certificate(p: CertParams): Buffer {
  const now = Date.now();
  const algorithm = sequence(oid(OID.ecdsaWithSha256));
  const tbs = sequence(
    explicit(0, smallInteger(2)), // v3
    serialNumber(),
    algorithm,
    p.issuerDer,
    // Backdated a minute so a clock a little behind still accepts it.
    sequence(time(new Date(now - 60_000)), time(new Date(now + p.validForMs))),
    p.subjectDer,
    p.publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, sequence(...p.extensions)),
  );
  // Node signs ECDSA in DER (r, s) form, which is what X.509 carries.
  const signature = sign('sha256', tbs, p.signingKey);
  return sequence(tbs, algorithm, bitStringBytes(signature));
}

const keyPem = (k: KeyObject) => k.export({ type: 'pkcs8', format: 'pem' }).toString();

export function createCertificateAuthority(
  commonName = 'webui-operator-test-ca',
  validForMs = DEFAULT_VALIDITY,
): CertificateAuthority {
  const { privateKey, publicKey } = newKey();
  const subjectDer = encodeName({ commonName });
  const der = certificate({
    issuerDer: subjectDer,
    subjectDer,
    publicKey,
    signingKey: privateKey,
    validForMs,
    extensions: [
      extension(OID.basicConstraints, true, sequence(boolean(true))),
      extension(OID.keyUsage, true, namedBits([DIGITAL_SIGNATURE, KEY_CERT_SIGN, CRL_SIGN])),
    ],
  });
  return { certPem: toPem('CERTIFICATE', der), keyPem: keyPem(privateKey), key: privateKey, subjectDer };
}

export function issueCertificate(ca: CertificateAuthority, opts: LeafOptions): CertKeyPair {
  const { privateKey, publicKey } = newKey();
  const extensions = [
    extension(OID.basicConstraints, true, sequence()),
    extension(OID.keyUsage, true, namedBits([DIGITAL_SIGNATURE, KEY_ENCIPHERMENT])),
    extension(
      OID.extKeyUsage,
      false,
      sequence(oid(opts.usage === 'server' ? OID.serverAuth : OID.clientAuth)),
    ),
  ];
  if (opts.hosts?.length) extensions.push(extension(OID.subjectAltName, false, subjectAltName(opts.hosts)));
  const der = certificate({
    issuerDer: ca.subjectDer,
    subjectDer: encodeName(opts.subject),
    publicKey,
    signingKey: ca.key,
    validForMs: opts.validForMs ?? DEFAULT_VALIDITY,
    extensions,
  });
  return { certPem: toPem('CERTIFICATE', der), keyPem: keyPem(privateKey) };
}

/** Token signing pair: kube-apiserver signs with the private key and verifies with the public one. */
export function createServiceAccountKeyPair(): { privateKeyPem: string; publicKeyPem: string } {
  const { privateKey, publicKey } = newKey();
  return {
    privateKeyPem: keyPem(privateKey),
    publicKeyPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
  };
}

/** Everything one control plane needs, in PEM. */
export interface ControlPlanePki {
  ca: CertificateAuthority;
  apiServer: CertKeyPair;
  admin: CertKeyPair;
  controllerManager: CertKeyPair;
  scheduler: CertKeyPair;
  /** kube-apiserver's identity towards kubelets (logs, exec, port-forward). */
  kubeletClient: CertKeyPair;
  serviceAccount: { privateKeyPem: string; publicKeyPem: string };
}

export const API_SERVER_HOSTS = ['localhost', '127.0.0.1', '::1'];
export const ADMIN_SUBJECT: Subject = { commonName: 'admin', organizations: ['system:masters'] };
// system:masters keeps it simple: the controllers run with this identity
// (--use-service-account-credentials=false), like a single-binary dev cluster.
export const CONTROLLER_MANAGER_SUBJECT: Subject = {
  commonName: 'system:kube-controller-manager',
  organizations: ['system:masters'],
};
// The bootstrap RBAC policy binds the system:kube-scheduler role to this user name.
export const SCHEDULER_SUBJECT: Subject = { commonName: 'system:kube-scheduler' };
// The kubelet's webhook authorizer asks the API server whether this user may use nodes/proxy,
// nodes/log, ...; system:masters may.
export const KUBELET_CLIENT_SUBJECT: Subject = {
  commonName: 'kube-apiserver-kubelet-client',
  organizations: ['system:masters'],
};

/** The names pods use for the API server (the `kubernetes` Service in `default`). */
export function kubernetesServiceNames(domain = 'cluster.local'): string[] {
  return ['kubernetes', 'kubernetes.default', 'kubernetes.default.svc', `kubernetes.default.svc.${domain}`];
}

/** The first address of an IPv4 Service range: kube-apiserver gives it to the `kubernetes` Service. */
export function firstServiceIp(cidr: string): string {
  const [base = '', bits = ''] = cidr.split('/');
  const prefix = Number(bits);
  if (!isIPv4(base) || !Number.isInteger(prefix) || prefix < 1 || prefix > 30) {
    throw new Error(`not an IPv4 CIDR with room for Services: ${cidr}`);
  }
  const n = base.split('.').reduce((acc, p) => acc * 256 + Number(p), 0);
  const network = n - (n % 2 ** (32 - prefix));
  const first = network + 1;
  return [24, 16, 8, 0].map((shift) => Math.floor(first / 2 ** shift) % 256).join('.');
}

/** extraHosts: more names and addresses for the API server's serving certificate. */
export function createControlPlanePki(extraHosts: string[] = []): ControlPlanePki {
  const ca = createCertificateAuthority();
  const client = (subject: Subject) => issueCertificate(ca, { subject, usage: 'client' });
  return {
    ca,
    apiServer: issueCertificate(ca, {
      subject: { commonName: 'kube-apiserver' },
      usage: 'server',
      hosts: [...API_SERVER_HOSTS, ...extraHosts],
    }),
    admin: client(ADMIN_SUBJECT),
    controllerManager: client(CONTROLLER_MANAGER_SUBJECT),
    scheduler: client(SCHEDULER_SUBJECT),
    kubeletClient: client(KUBELET_CLIENT_SUBJECT),
    serviceAccount: createServiceAccountKeyPair(),
  };
}
