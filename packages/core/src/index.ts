/*
 * @gatehouse/core public surface. Engines and the CLI import only from here.
 */
export * from './gateway/types.js';
export { HeaderList, type HeaderInit } from './gateway/headers.js';
export { RequestBody, bufferedBodySource } from './gateway/body.js';
export type { BodySource } from './gateway/body-source.js';
export { AbortableRequest, createRequest, splitTarget, percentDecode } from './gateway/request.js';
export { validate } from './gateway/validator.js';
export * from './errors/index.js';
export { channels } from './diagnostics.js';
export type * from './diagnostics.js';
export type * from './engine/engine.js';
export { TOKENS } from './engine/tokens.js';
export { parseBind, bindListener, describeAddress, type ListenTarget } from './engine/listen.js';
export { InLoopServer, InLoopDispatcher } from './engine/in-loop.js';
export { SingleEngine } from './engine/single.js';
export { createContainer, registerEngine, resolveEngineClass, knownEngines } from './engine/container.js';
export { SETTINGS, defaultSettings, type Settings, type SettingName, type Hook } from './settings/table.js';
export type * from './settings/types.js';
export { protocolOptionsFrom, type ProtocolOptions, type ParserLimits } from './http/options.js';
export type { HttpService, HttpServiceStats } from './http/service.js';
export { createHttpService } from './http/create-service.js';
export { loadApp, type LoadOptions } from './app/loader.js';
export { importableSpecifier } from './app/import.js';
export { flagName, snakeName, envName, camelName, ENV_PREFIX } from './settings/names.js';
export { coerceSetting, describeSource, sourceLayer, allowedValues, formatSettingValue, settingSpellings, type SettingSource } from './settings/parse.js';
export { resolveSettings, entriesFromEnv, entriesFromObject, type SettingEntry, type ResolvedSettings } from './settings/resolve.js';
export { CONFIG_FILE_NAMES, findConfigFile, readConfigFile, entriesFromConfigFile, loadConfigHooks, serializableSettings } from './settings/config-file.js';
export { nearest, editDistance } from './settings/suggest.js';
export { SIGNAL_ACTIONS, ActionLoop, applyAction, type EngineAction, type HandledSignal, type ActionLoopHooks } from './engine/signals.js';
export { adaptFetchHandler, isFetchHandler, type FetchHandler } from './gateway/adapters/fetch.js';
export { installFetchGlobals, fetchGlobalsInstalled } from './gateway/adapters/fetch-globals.js';
export { adaptNodeListener, type NodeListener } from './gateway/adapters/node.js';
export { prepareToListen } from './net/prepare.js';
export { dropPrivileges, applyUmask, resolveIdentity, type ProcessIdentity } from './net/privileges.js';
export { tlsContextFor, type TlsContext } from './net/tls.js';
export { takeSocketActivation, LISTEN_FDS_START, type SocketActivation } from './net/systemd.js';
export { ProxyTrust, readForwarded, type ForwardedView } from './net/proxy-headers.js';
export { parseProxyHeader, readProxyHeader, type ProxyHeader, type ProxyParse, type ProxyProtocolMode } from './net/proxy-protocol.js';
export { stopReading } from './net/stop-reading.js';
export {
  Liveness, BootBackoff, RepeatedLine, heartbeatInterval, recycleAfter, memoryRecycleMark, shouldRecycleForMemory, restartCounts,
  MEMORY_RECYCLE_FRACTION, BOOT_BACKOFF_BASE_MS, BOOT_BACKOFF_MAX_MS,
  type Clock, type LivenessOptions, type RestartCause, type RestartCounts,
} from './engine/supervision.js';
