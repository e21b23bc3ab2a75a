/*
 * Interim responses (RFC 9110 §15.2): what GatewayRequest.sendInterim accepts, checked the
 * same way on every side that takes one (the protocol layer, an app thread before the call
 * crosses to the socket's thread), so a misuse throws where the app made it.
 *
 * - The status is a 1xx other than 100 and 101: 100 Continue is the server's answer to
 *   `Expect: 100-continue` (sent when the app first reads the body), 101 belongs to an
 *   accepted upgrade. In practice this is 103 Early Hints (RFC 8297).
 * - Fields are checked as the final head's are (an app cannot split a response). Framing and
 *   connection fields are left out: a 1xx has no body and changes nothing about the connection.
 */
import { GatehouseError } from '../errors/index.js';
import { checkedFields } from './field-section.js';
import type { ResponseHeaders } from './types.js';

const NOT_IN_INTERIM = new Set(['content-length', 'transfer-encoding', 'connection', 'keep-alive', 'proxy-connection', 'upgrade', 'te', 'trailer']);
const notInInterim = (name: string): boolean => NOT_IN_INTERIM.has(name);

/** The checked fields of an interim response; throws ERR_APP_BAD_INTERIM or ERR_APP_BAD_HEADER. */
export function interimFields(status: number, headers: ResponseHeaders | null | undefined): string[] {
  if (!Number.isInteger(status) || status < 100 || status > 199) {
    throw new GatehouseError('ERR_APP_BAD_INTERIM', `status ${String(status)} is not a 1xx; the final response is what the app returns`);
  }
  if (status === 100) throw new GatehouseError('ERR_APP_BAD_INTERIM', '100 Continue is sent by the server when the app first reads the request body');
  if (status === 101) throw new GatehouseError('ERR_APP_BAD_INTERIM', '101 Switching Protocols is the answer of an accepted upgrade (request.upgrade), not an interim response');
  return checkedFields(headers, notInInterim);
}
