import { createPrivateKey, createPublicKey, X509Certificate } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { oid, unsignedInteger } from './der.ts';
import {
  ADMIN_SUBJECT,
  API_SERVER_HOSTS,
  createCertificateAuthority,
  createControlPlanePki,
  ipBytes,
  issueCertificate,
} from './pki.ts';

describe('DER encoding', () => {
  it('encodes OIDs with base-128 arcs', () => {
    // ecdsa-with-SHA256, as printed in RFC 5758.
    expect(oid('1.2.840.10045.4.3.2').toString('hex')).toBe('06082a8648ce3d040302');
    expect(oid('2.5.29.17').toString('hex')).toBe('0603551d11');
  });

  it('encodes unsigned integers minimally and never negative', () => {
    expect(unsignedInteger(Uint8Array.from([0, 0, 5])).toString('hex')).toBe('020105');
    expect(unsignedInteger(Uint8Array.from([0x80])).toString('hex')).toBe('02020080');
    expect(unsignedInteger(Uint8Array.from([0])).toString('hex')).toBe('020100');
  });

  it('converts IP literals to network-order bytes', () => {
    expect(ipBytes('127.0.0.1').toString('hex')).toBe('7f000001');
    expect(ipBytes('::1').toString('hex')).toBe(`${'0'.repeat(30)}01`);
    expect(ipBytes('fd00:1::2').toString('hex')).toBe('fd000001000000000000000000000002');
    expect(ipBytes('::ffff:10.0.0.1').toString('hex')).toBe('00000000000000000000ffff0a000001');
    expect(() => ipBytes('localhost')).toThrow(/not an IP/);
  });
});

describe('control plane PKI', () => {
  const pki = createControlPlanePki();
  const ca = new X509Certificate(pki.ca.certPem);

  it('creates a self-signed CA', () => {
    expect(ca.ca).toBe(true);
    expect(ca.subject).toBe('CN=webui-operator-test-ca');
    expect(ca.verify(ca.publicKey)).toBe(true);
    expect(ca.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
  });

  it('issues a serving certificate for localhost, 127.0.0.1 and ::1, signed by the CA', () => {
    const cert = new X509Certificate(pki.apiServer.certPem);
    expect(cert.ca).toBe(false);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.verify(ca.publicKey)).toBe(true);
    expect(cert.subjectAltName).toBe('DNS:localhost, IP Address:127.0.0.1, IP Address:0:0:0:0:0:0:0:1');
    for (const host of API_SERVER_HOSTS) {
      expect(host.includes(':') || /^\d/.test(host) ? cert.checkIP(host) : cert.checkHost(host)).toBe(host);
    }
    expect(cert.checkHost('example.com')).toBeUndefined();
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.1']); // serverAuth only
    const now = Date.now();
    expect(new Date(cert.validFrom).getTime()).toBeLessThan(now);
    expect(new Date(cert.validTo).getTime()).toBeGreaterThan(now);
  });

  it('issues the admin client certificate as CN=admin in group system:masters', () => {
    const cert = new X509Certificate(pki.admin.certPem);
    expect(cert.subject.split('\n').sort()).toEqual(['CN=admin', 'O=system:masters']);
    expect(ADMIN_SUBJECT.organizations).toEqual(['system:masters']);
    expect(cert.checkIssued(ca)).toBe(true);
    expect(cert.keyUsage).toEqual(['1.3.6.1.5.5.7.3.2']); // clientAuth only
    expect(cert.subjectAltName).toBeUndefined();
  });

  it('pairs every certificate with its own private key', () => {
    for (const pair of [pki.apiServer, pki.admin, pki.controllerManager]) {
      const cert = new X509Certificate(pair.certPem);
      expect(cert.checkPrivateKey(createPrivateKey(pair.keyPem))).toBe(true);
    }
    const other = issueCertificate(createCertificateAuthority(), {
      subject: { commonName: 'x' },
      usage: 'client',
    });
    expect(new X509Certificate(other.certPem).verify(ca.publicKey)).toBe(false); // same CA name, other key
    expect(new X509Certificate(pki.admin.certPem).checkPrivateKey(createPrivateKey(other.keyPem))).toBe(
      false,
    );
  });

  it('creates a service-account signing pair whose halves match', () => {
    const fromPrivate = createPublicKey(pki.serviceAccount.privateKeyPem).export({
      type: 'spki',
      format: 'pem',
    });
    expect(fromPrivate).toBe(pki.serviceAccount.publicKeyPem);
  });

  it('uses fresh keys and serial numbers each time', () => {
    const again = createControlPlanePki();
    expect(again.ca.keyPem).not.toBe(pki.ca.keyPem);
    expect(new X509Certificate(again.admin.certPem).serialNumber).not.toBe(
      new X509Certificate(pki.admin.certPem).serialNumber,
    );
  });
});
