/*
 * Self-signed (or CA-signed) X.509 certificates for TLS tests, made with node:crypto alone, so
 * the tests need no openssl binary on the machine. Node can make and sign keys but has no API
 * to build a certificate, so this writes the few DER structures of RFC 5280 a TLS handshake
 * needs: an EC P-256 key, ecdsa-with-SHA256, a CN, a validity window, subjectAltName (DNS and
 * IP names), and basicConstraints for a CA.
 *
 *   const { cert, key } = makeCertificate({ altNames: ['localhost', '127.0.0.1'] });
 *   const ca = makeCertificate({ commonName: 'test CA', isCA: true });
 *   const client = makeCertificate({ commonName: 'client', issuer: ca });
 */
import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';

export interface Certificate {
  /** PEM */
  readonly cert: string;
  /** PEM (PKCS#8) */
  readonly key: string;
  readonly commonName: string;
}

export interface CertificateOptions {
  readonly commonName?: string;
  /** DNS names and IP addresses for subjectAltName. Default: localhost, 127.0.0.1, ::1. */
  readonly altNames?: readonly string[];
  readonly isCA?: boolean;
  /** Signs with this CA's key (default: self-signed). */
  readonly issuer?: Certificate;
  readonly days?: number;
}

export function makeCertificate(options: CertificateOptions = {}): Certificate {
  const commonName = options.commonName ?? 'localhost';
  const { publicKey, privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const signingKey = options.issuer ? crypto.createPrivateKey(options.issuer.key) : privateKey;
  const issuerName = options.issuer ? options.issuer.commonName : commonName;
  const now = Date.now();
  const extensions: Buffer[] = [];
  const altNames = options.altNames ?? (options.isCA ? [] : ['localhost', '127.0.0.1', '::1']);
  if (altNames.length > 0) {
    const names = altNames.map((name) => net.isIP(name) ? tlv(0x87, ipBytes(name)) : tlv(0x82, Buffer.from(name, 'ascii')));
    extensions.push(seq(oid('2.5.29.17'), tlv(0x04, seq(...names))));
  }
  if (options.isCA) extensions.push(seq(oid('2.5.29.19'), tlv(0x01, Buffer.from([0xff])), tlv(0x04, seq(tlv(0x01, Buffer.from([0xff]))))));
  const signatureAlgorithm = seq(oid('1.2.840.10045.4.3.2')); // ecdsa-with-SHA256
  const serial = crypto.randomBytes(8);
  const tbs = seq(
    tlv(0xa0, tlv(0x02, Buffer.from([2]))), // v3
    tlv(0x02, unsignedInteger(serial)),
    signatureAlgorithm,
    name(issuerName),
    seq(utcTime(new Date(now - 60_000)), utcTime(new Date(now + (options.days ?? 2) * 86_400_000))),
    name(commonName),
    publicKey.export({ type: 'spki', format: 'der' }),
    ...(extensions.length > 0 ? [tlv(0xa3, seq(...extensions))] : []),
  );
  const signature = crypto.sign('sha256', tbs, signingKey); // DER-encoded ECDSA signature
  const der = seq(tbs, signatureAlgorithm, tlv(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const cert = `-----BEGIN CERTIFICATE-----\n${der.toString('base64').replace(/.{64}/g, '$&\n').replace(/\n?$/, '\n')}-----END CERTIFICATE-----\n`;
  const key = privateKey.export({ type: 'pkcs8', format: 'pem' }) as string;
  return { cert, key, commonName };
}

/** Writes cert.pem and key.pem into a new temp dir; returns their paths. */
export function writeCertificate(certificate: Certificate, dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-tls-'))): { certfile: string; keyfile: string; dir: string } {
  const certfile = path.join(dir, `${certificate.commonName.replace(/\W+/g, '-')}.cert.pem`);
  const keyfile = path.join(dir, `${certificate.commonName.replace(/\W+/g, '-')}.key.pem`);
  fs.writeFileSync(certfile, certificate.cert);
  fs.writeFileSync(keyfile, certificate.key, { mode: 0o600 });
  return { certfile, keyfile, dir };
}

/**
 * A DER INTEGER's content for an unsigned value: minimal, so no leading 0x00 unless the next
 * byte has its top bit set (then the 0x00 keeps it positive). OpenSSL refuses any other padding
 * ("illegal padding"), which a random serial hits about once in 256 certificates.
 */
export function unsignedInteger(bytes: Uint8Array): Buffer {
  let start = 0;
  while (start < bytes.length - 1 && bytes[start] === 0) start++;
  const trimmed = Buffer.from(bytes.subarray(start));
  return trimmed[0]! & 0x80 ? Buffer.concat([Buffer.from([0]), trimmed]) : trimmed;
}

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

function tlv(tag: number, value: Buffer): Buffer {
  return Buffer.concat([Buffer.from([tag]), length(value.length), value]);
}

function seq(...items: Buffer[]): Buffer {
  return tlv(0x30, Buffer.concat(items));
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const bytes = [parts[0]! * 40 + parts[1]!];
  for (const part of parts.slice(2)) {
    const chunk: number[] = [part & 0x7f];
    for (let v = part >>> 7; v > 0; v >>>= 7) chunk.unshift((v & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return tlv(0x06, Buffer.from(bytes));
}

function name(commonName: string): Buffer {
  return seq(tlv(0x31, seq(oid('2.5.4.3'), tlv(0x0c, Buffer.from(commonName, 'utf8')))));
}

function utcTime(date: Date): Buffer {
  const iso = date.toISOString(); // 2025-01-02T03:04:05.678Z -> 250102030405Z
  return tlv(0x17, Buffer.from(`${iso.slice(2, 4)}${iso.slice(5, 7)}${iso.slice(8, 10)}${iso.slice(11, 13)}${iso.slice(14, 16)}${iso.slice(17, 19)}Z`, 'ascii'));
}

function ipBytes(address: string): Buffer {
  if (net.isIPv4(address)) return Buffer.from(address.split('.').map(Number));
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (text: string | undefined) => (text ? text.split(':').filter(Boolean).map((g) => parseInt(g, 16)) : []);
  const left = groups(head);
  const right = groups(tail);
  const all = tail === undefined ? left : [...left, ...new Array(8 - left.length - right.length).fill(0), ...right];
  const out = Buffer.alloc(16);
  all.forEach((g, i) => out.writeUInt16BE(g, i * 2));
  return out;
}
