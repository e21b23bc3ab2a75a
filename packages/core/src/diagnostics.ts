/*
 * Observability without a logger in core (undici's lib/core/diagnostics.js). Core and the
 * engines publish on these diagnostics_channel channels; the CLI subscribes pino and metrics
 * to them. Publishing with no subscriber costs a `hasSubscribers` check.
 */
import diagnostics from 'node:diagnostics_channel';
import type { GatewayRequest, GatewayResponse } from './gateway/types.js';

export interface RequestStartMessage { readonly request: GatewayRequest; readonly startedAt: bigint }
export interface RequestEndMessage {
  readonly request: GatewayRequest;
  readonly status: number;
  /** Body bytes written, not counting the head. */
  readonly bytes: number;
  /** process.hrtime.bigint() at start and end. */
  readonly startedAt: bigint;
  readonly endedAt: bigint;
  readonly response?: GatewayResponse;
  /** The app thread that ran the request, when it ran on one (recordRequestUnit). */
  readonly unit?: number;
}
export interface RequestErrorMessage { readonly request?: GatewayRequest; readonly error: unknown; readonly phase: 'app' | 'response' | 'body' }
export interface ProtocolErrorMessage { readonly code: string; readonly status: number; readonly remote: string; readonly detail?: string }
export interface ConnectionMessage { readonly remote: string; readonly open: number }
export interface UnitMessage {
  readonly kind: 'process' | 'thread';
  readonly id: number;
  readonly pid?: number;
  readonly threadId?: number;
  /** Why it went down: exit, crash, timeout, max-requests, memory, reload, scale, stop. */
  readonly reason?: string;
  readonly detail?: string;
  /** On unitDown: the unit's last UnitStats.metrics, its final report, so counts outlive the unit. */
  readonly metrics?: Readonly<Record<string, unknown>>;
}
/** Published in each process/thread when its logs must be reopened (USR1 reached it). */
export interface LogsReopenMessage { readonly reason: 'signal' | 'api' }
/** Published by an engine unit before it reports stats; subscribers fill `into` (carried opaquely as UnitStats.metrics). */
export interface MetricsCollectMessage { readonly into: Record<string, unknown> }
/** The app is set up in a way that keeps something from working; logged once, at warn. */
export interface AppWarningMessage { readonly error: Error & { readonly code: string } }
export interface EngineMessage { readonly engine: string; readonly event: string; readonly detail?: string; readonly level?: 'info' | 'warn' | 'error' }

export const channels = {
  requestStart: diagnostics.channel('gatehouse:request:start'),
  requestEnd: diagnostics.channel('gatehouse:request:end'),
  requestError: diagnostics.channel('gatehouse:request:error'),
  protocolError: diagnostics.channel('gatehouse:protocol:error'),
  connectionOpen: diagnostics.channel('gatehouse:connection:open'),
  connectionClose: diagnostics.channel('gatehouse:connection:close'),
  unitUp: diagnostics.channel('gatehouse:unit:up'),
  unitDown: diagnostics.channel('gatehouse:unit:down'),
  engine: diagnostics.channel('gatehouse:engine'),
  logsReopen: diagnostics.channel('gatehouse:logs:reopen'),
  metricsCollect: diagnostics.channel('gatehouse:metrics:collect'),
  appWarning: diagnostics.channel('gatehouse:app:warning'),
} as const;
