/*
 * TLS for the protocol layer. Engines bind plain TCP listeners (prefork shares them across
 * processes, and a TLS server object cannot be shared), so TLS starts where an accepted socket
 * reaches core: HttpService.handle wraps it in a server-side TLSSocket built on the context
 * made here, and the HTTP connection runs on the TLSSocket.
 *
 * The SecureContext is made once per process from the files named by the settings and cached
 * by their values: the master makes it first (prepareToListen), so a bad certificate or key is
 * one line before anything binds; a worker process makes its own from the same files, or, when
 * it drops privileges, before it drops them (privileges.ts), so a key readable only by root
 * still works.
 */
import fs from 'node:fs';
import tls from 'node:tls';
import type { Socket } from 'node:net';
import { GatehouseError } from '../errors/index.js';
import type { Settings } from '../settings/table.js';

export type TlsSettings = Pick<Settings, 'certfile' | 'keyfile' | 'caCerts' | 'tlsMinVersion' | 'ciphers'>;

/** Everything a connection needs to start TLS. */
export interface TlsContext {
  readonly secureContext: tls.SecureContext;
  /** --ca-certs given: clients must present a certificate signed by one of them. */
  readonly requestCert: boolean;
}

/**
 * Protocols offered by ALPN, in the server's order of preference. A client that offers only
 * what we do not speak fails the handshake instead of talking past us. With h2 chosen, the
 * client's first bytes are the HTTP/2 preface, and the connection hands the socket to an
 * HTTP/2 session (http/connection.ts); otherwise HTTP/1.1 goes on as usual.
 */
const ALPN_HTTP1 = ['http/1.1'];
const ALPN_H2 = ['h2', 'http/1.1'];

const cache = new Map<string, TlsContext>();

/** The TLS context these settings describe (null when --certfile is not set); throws ERR_TLS_CONFIG. */
export function tlsContextFor(settings: Readonly<TlsSettings>): TlsContext | null {
  if (!settings.certfile) {
    if (settings.keyfile || settings.caCerts) throw new GatehouseError('ERR_TLS_CONFIG', `${settings.keyfile ? '--keyfile' : '--ca-certs'} is set without --certfile`);
    return null;
  }
  const key = JSON.stringify([settings.certfile, settings.keyfile, settings.caCerts, settings.tlsMinVersion, settings.ciphers]);
  let context = cache.get(key);
  if (context === undefined) {
    context = buildContext(settings);
    cache.set(key, context);
  }
  return context;
}

function buildContext(settings: Readonly<TlsSettings>): TlsContext {
  const cert = readPem('--certfile', settings.certfile);
  // A PEM file may hold the key after the certificate (as nginx and Gunicorn accept).
  const keyPath = settings.keyfile || settings.certfile;
  const key = readPem(settings.keyfile ? '--keyfile' : '--certfile (no --keyfile given, so the key must be in it)', keyPath);
  const ca = settings.caCerts ? readPem('--ca-certs', settings.caCerts) : undefined;
  // OpenSSL skips what is not a certificate in a CA file, so a wrong file would silently
  // verify nobody.
  if (ca !== undefined && !ca.includes('-----BEGIN CERTIFICATE-----')) throw new GatehouseError('ERR_TLS_CONFIG', `--ca-certs ${settings.caCerts}: no PEM certificate in it`);
  try {
    const secureContext = tls.createSecureContext({
      cert, key, ca,
      minVersion: settings.tlsMinVersion,
      ciphers: settings.ciphers || undefined,
    });
    return { secureContext, requestCert: ca !== undefined };
  } catch (error) {
    const what = describeFailure(error as NodeJS.ErrnoException, settings, { cert, key });
    throw new GatehouseError('ERR_TLS_CONFIG', what, { cause: error });
  }
}

function readPem(flag: string, file: string): Buffer {
  try {
    return fs.readFileSync(file);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code ?? (error as Error).message;
    throw new GatehouseError('ERR_TLS_CONFIG', `${flag} ${file}: ${code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code}`, { cause: error });
  }
}

/** Names the file OpenSSL choked on (by retrying the parts alone), with OpenSSL's own reason. */
function describeFailure(error: NodeJS.ErrnoException, settings: Readonly<TlsSettings>, parts: { cert: Buffer; key: Buffer }): string {
  const keyFile = settings.keyfile || settings.certfile;
  const alone = (options: tls.SecureContextOptions): Error | null => {
    try { tls.createSecureContext(options); return null; } catch (failure) { return failure as Error; }
  };
  const certError = alone({ cert: parts.cert });
  if (certError) return `--certfile ${settings.certfile}: ${opensslReason(certError)} (not a PEM certificate?)`;
  const keyError = alone({ key: parts.key });
  if (keyError) return `--keyfile ${keyFile}: ${opensslReason(keyError)} (not a PEM private key, or encrypted?)`;
  if (/KEY_VALUES_MISMATCH/.test(error.code ?? '')) return `--certfile ${settings.certfile} and --keyfile ${keyFile} are not a pair: ${opensslReason(error)}`;
  if (settings.ciphers && alone({ ciphers: settings.ciphers })) return `--ciphers "${settings.ciphers}": ${opensslReason(error)}`;
  return `${settings.certfile}: ${opensslReason(error)}`;
}

function opensslReason(error: NodeJS.ErrnoException): string {
  const reason = (error as { reason?: string }).reason;
  if (reason) return reason;
  // "error:0480006C:PEM routines::no start line" -> "no start line"
  const parts = error.message.split('::');
  return parts[parts.length - 1]!.trim() || error.message;
}

/**
 * Starts server-side TLS on an accepted socket, offering h2 by ALPN when `offerH2`. Bytes already read from `socket` (and put
 * back with unshift, as the PROXY protocol reader does) are fed to TLS first.
 *
 * With --ca-certs, a client whose certificate does not verify is cut off once the handshake
 * completes. tls.Server does that check in its own connection listener, which a TLSSocket
 * made outside a server does not get, so it is done here the same way (the handle's
 * verifyError(), what tls.Server and tls.connect both use); without that method, fail closed.
 */
export function startTls(socket: Socket, context: TlsContext, offerH2 = false): tls.TLSSocket {
  const secure = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: context.secureContext,
    ALPNProtocols: offerH2 ? ALPN_H2 : ALPN_HTTP1,
    requestCert: context.requestCert,
    rejectUnauthorized: context.requestCert,
  });
  if (context.requestCert) secure.once('secure', rejectUnverifiedClient);
  return secure;
}

function rejectUnverifiedClient(this: tls.TLSSocket): void {
  const handle = (this as unknown as { _handle?: { verifyError?: () => Error | null } })._handle;
  const error = typeof handle?.verifyError === 'function' ? handle.verifyError() : new Error('cannot verify the client certificate');
  if (error) this.destroy();
}
