/*
 * @gatehouse/core public surface: what apps, engine authors and embedders use. Each group
 * below is one of those audiences' needs. What only the built-in engines and the CLI share
 * (settings resolution, the signal loop, protocol options) is '@gatehouse/core/internal'; the
 * lean entries for app threads and worker processes are '/app-runtime' and '/worker-runtime'.
 * test/exports.test.ts lists every name exported here, so a change to them is deliberate.
 */

// The Gateway Interface: what an app is given and returns, and the adapters for other app shapes.
export * from './gateway/types.js';
export { HeaderList, type HeaderInit } from './gateway/headers.js';
export { RequestBody, bufferedBodySource } from './gateway/body.js';
export type { BodySource } from './gateway/body-source.js';
export { createRequest } from './gateway/request.js';
export { validate } from './gateway/validator.js';
export { adaptFetchHandler, type FetchHandler } from './gateway/adapters/fetch.js';
export { installFetchGlobals } from './gateway/adapters/fetch-globals.js';
export { adaptNodeListener, type NodeListener } from './gateway/adapters/node.js';
export { loadApp, type LoadOptions } from './app/loader.js';

// Errors and diagnostics events.
export * from './errors/index.js';
export { channels } from './diagnostics.js';
export type * from './diagnostics.js';

// The Engine contract, its DI container, and what an engine builds on.
export type * from './engine/engine.js';
export { TOKENS } from './engine/tokens.js';
export { createContainer } from './engine/container.js';
export { SingleEngine } from './engine/single.js';
export { InLoopServer } from './engine/in-loop.js';
export type { HttpService, HttpServiceStats } from './http/service.js';
export { createHttpService } from './http/connection-service.js';
export { prepareToListen } from './net/prepare.js';
export { bindAll, type BoundListeners, type ListenTarget } from './net/listen.js';
export { dropPrivileges } from './net/privileges.js';

// Settings, to read: the table and the resolved values an engine is given.
export { SETTINGS, defaultSettings, type Settings, type SettingName, type Hook } from './settings/table.js';
export type * from './settings/types.js';
