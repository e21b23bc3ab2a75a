/*
 * Who may send a PROXY protocol header (--proxy-allow-ips, Gunicorn's proxy_allow_ips). The
 * header is a claim about the client's address, and the claimed address is then what
 * --forwarded-allow-ips is judged against: believed from any peer, a client could claim
 * 127.0.0.1 and have its own X-Forwarded-For trusted. So a header is believed only from a peer
 * on the list (checked against the socket's address; a Unix-socket peer is on it, as for
 * --forwarded-allow-ips). From any other peer the connection is refused: closed without a
 * response, its request never reaching the app. In auto mode such a peer can still connect
 * without a header, and is then judged by its own address like any client.
 *
 * A refusal is reported on the protocol-error channel at most once per REPORT_INTERVAL_MS per
 * service, with how many were refused since the last report, so a flood of forged headers
 * cannot flood the log.
 */
import { channels } from '../diagnostics.js';
import { GatehouseError } from '../errors/index.js';
import { ProxyTrust } from './proxy-headers.js';

const REPORT_INTERVAL_MS = 10_000;

export class ProxyAllowList {
  readonly #trust: ProxyTrust;
  #lastReport = 0;
  #unreported = 0;

  /** Throws ERR_SETTING_INVALID naming a bad --proxy-allow-ips entry. */
  constructor(values: readonly string[]) {
    this.#trust = ProxyTrust.parse(values, '--proxy-allow-ips');
  }

  /** Whether a peer at `address` ('' for a Unix socket) may send a PROXY header. */
  allows(address: string): boolean {
    return this.#trust.trusts(address);
  }

  /** Reports a refused header from `remote` (ADDRESS:PORT), rate-limited. */
  refused(remote: string): void {
    this.#unreported++;
    const now = Date.now();
    if (now - this.#lastReport < REPORT_INTERVAL_MS || !channels.protocolError.hasSubscribers) return;
    const count = this.#unreported;
    this.#lastReport = now;
    this.#unreported = 0;
    const error = new GatehouseError('ERR_PROXY_NOT_ALLOWED', count > 1 ? `and ${count - 1} more since the last report` : undefined);
    channels.protocolError.publish({ code: error.code, status: error.status, remote, detail: error.detail });
  }
}
