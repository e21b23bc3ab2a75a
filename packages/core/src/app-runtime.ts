/*
 * @gatehouse/core/app-runtime: what runs the app on the far side of a thread boundary, and
 * nothing else: the app and the per-unit setup (the CLI's logging module, the config file's
 * request hooks). An app thread imports this instead of the whole public surface, so each
 * thread's isolate does not load the engine container (inversify, reflect-metadata), the
 * protocol layer or the listeners (lean-runtime.test.ts in the CLI checks it). Additive:
 * everything here is also exported from '@gatehouse/core' or '@gatehouse/core/internal'.
 */
export type * from './gateway/types.js';
export { HeaderList, type HeaderInit } from './gateway/headers.js';
export { RequestBody, bufferedBodySource } from './gateway/body.js';
export type { BodySource } from './gateway/body-source.js';
export { AbortableRequest, createRequest } from './gateway/request.js';
export { GatehouseError, isGatehouseError, type ErrorCode, type SerializedError } from './errors/index.js';
export { channels } from './diagnostics.js';
export { loadApp, type LoadOptions } from './app/loader.js';
export { importableSpecifier } from './app/import.js';
export { loadConfigHooks } from './settings/config-file.js';
export { describeSource, type SettingSource } from './settings/parse.js';
export type { Settings } from './settings/table.js';
export { memoryRecycleMark } from './engine/supervision.js';
export type * from './diagnostics.js';
export { interimFields } from './gateway/interim.js';
export { acceptsTrailers, trailerFields } from './gateway/trailers.js';
export { TAKEOVER, takeoverOf, takeoverResponse, requestedUpgrade, type Takeover, type TakenConnection } from './gateway/takeover.js';
// What request.upgrade needs on the side that builds requests (an app thread: from its Settings).
export { upgradeOptionsFrom, type UpgradeOptions, type WebSocketLimits } from './gateway/upgrade-options.js';
