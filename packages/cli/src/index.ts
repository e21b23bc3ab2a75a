/*
 * @gatehouse/cli public surface: the `serve` program and the embedding API.
 */
export { main, printConfig, type ReadyMessage } from './main.js';
// Re-exported so an embedder that only depends on @gatehouse/cli can rebind a token.
export { TOKENS } from '@gatehouse/core';
export {
  createServer, createContainerFor, startServer, containerFor, settingsFromOptions, SETUP_MODULE, OBSERVER,
  type GatehouseServer, type ServerOptions, type ServerInput, type StartOptions,
} from './server.js';
export { resolveEngine, registerEngine, engineNames } from './engines.js';
export { loadSettings, CMD_ARGS_VARIABLE, type LoadedSettings } from './load-settings.js';
export { observe, type Observer, type SetupUnit } from './logging/setup.js';
export { ACCESS_LOG_ATOMS, ACCESS_LOG_PRESETS, compileAccessLogFormat } from './logging/access-format.js';
export { createMetricsRegistry, startMetricsServer } from './metrics/server.js';
export { SNAPSHOT_KEY, DURATION_BUCKETS, type UnitMetricsSnapshot } from './metrics/unit-metrics.js';
