/*
 * What the client is told when the app fails before its response head went out, the same for
 * every protocol: the status of a GatehouseError the app let through (400 for invalid JSON, 503
 * from an overloaded engine), else 500; the catalogue's message, plus the stack under --debug.
 * Errors about the app's own response (ERR_APP_*) are always 500.
 */
import { GatehouseError, isGatehouseError } from '../errors/index.js';

export interface FailureAnswer {
  readonly status: number;
  readonly text: string;
}

export function answerForAppFailure(error: unknown, debug: boolean): FailureAnswer {
  const gatehouse = isGatehouseError(error) ? error : null;
  const status = gatehouse !== null && gatehouse.status >= 400 && gatehouse.status <= 599 && !gatehouse.code.startsWith('ERR_APP_') ? gatehouse.status : 500;
  const code = gatehouse !== null && status !== 500 ? gatehouse.code : (gatehouse?.code.startsWith('ERR_APP_') ? gatehouse.code : 'ERR_APP_THREW');
  let text = new GatehouseError(code).message + '\n';
  if (debug) text += '\n' + (error instanceof Error ? error.stack ?? String(error) : String(error)) + '\n';
  return { status, text };
}
