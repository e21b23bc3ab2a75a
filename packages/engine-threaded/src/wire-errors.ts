/*
 * Errors cross the thread boundary as SerializedError (instanceof does not survive
 * postMessage; codes do). Anything that is not already a GatehouseError is wrapped in the
 * code the caller names, keeping the original message as detail and its stack.
 */
import { GatehouseError, isGatehouseError, type ErrorCode, type GatewayResponse, type SerializedError } from '@gatehouse/core/app-runtime';

export function serializeError(error: unknown, fallback: ErrorCode): SerializedError {
  if (isGatehouseError(error)) {
    const e = error as GatehouseError;
    return { code: e.code, message: e.message, detail: e.detail, stack: e.stack };
  }
  const detail = error instanceof Error ? error.message : String(error);
  const wrapped = new GatehouseError(fallback, detail);
  return { code: fallback, message: wrapped.message, detail, stack: error instanceof Error ? error.stack : undefined };
}

export function deserializeError(data: SerializedError): GatehouseError {
  return GatehouseError.fromJSON(data);
}

/**
 * A response the engine gives on the app's behalf (queue full, thread stuck, deadline
 * passed). Resolving with it, rather than rejecting, keeps the status and Retry-After in the
 * engine's hands whatever the protocol layer does with rejections.
 */
export function engineResponse(error: GatehouseError, retryAfterSeconds?: number): GatewayResponse {
  const headers: Array<[string, string]> = [['content-type', 'text/plain; charset=utf-8']];
  if (retryAfterSeconds !== undefined) headers.push(['retry-after', String(retryAfterSeconds)]);
  return { status: error.status, headers, body: `${error.message}\n` };
}
