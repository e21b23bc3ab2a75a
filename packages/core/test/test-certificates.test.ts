/*
 * The test kit's certificate maker: TLS suites under every engine trust it, so a certificate
 * OpenSSL refuses fails a whole suite at random (it did, once in ~256 certificates, until the
 * serial number was encoded minimally).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import tls from 'node:tls';
import { makeCertificate, unsignedInteger } from './kit/certs.js';

describe('test kit certificates', () => {
  it('encodes a serial number as a minimal positive DER integer', () => {
    assert.deepEqual([...unsignedInteger(Uint8Array.from([0x00, 0x10, 0x20]))], [0x10, 0x20]);
    assert.deepEqual([...unsignedInteger(Uint8Array.from([0x00, 0x00, 0x90]))], [0x00, 0x90]);
    assert.deepEqual([...unsignedInteger(Uint8Array.from([0x90, 0x01]))], [0x00, 0x90, 0x01]);
    assert.deepEqual([...unsignedInteger(Uint8Array.from([0x7f, 0xff]))], [0x7f, 0xff]);
    assert.deepEqual([...unsignedInteger(Uint8Array.from([0x00]))], [0x00]);
  });

  it('makes certificates that OpenSSL loads, every time (600 in a row)', () => {
    for (let i = 0; i < 600; i++) {
      const { cert, key } = makeCertificate();
      assert.doesNotThrow(() => tls.createSecureContext({ cert, key }), `certificate ${i} was refused:\n${cert}`);
    }
  });

  it('makes a CA-signed certificate that verifies against its CA', () => {
    const ca = makeCertificate({ commonName: 'test CA', isCA: true });
    const leaf = makeCertificate({ commonName: 'client', issuer: ca });
    assert.equal(new crypto.X509Certificate(leaf.cert).verify(new crypto.X509Certificate(ca.cert).publicKey), true);
    assert.equal(new crypto.X509Certificate(leaf.cert).checkIssued(new crypto.X509Certificate(ca.cert)), true);
  });
});
