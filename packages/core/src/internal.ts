/*
 * @gatehouse/core/internal: what the built-in engines and the CLI share and nobody else needs:
 * resolving settings from flags, env and config files, the signal action loop, protocol options
 * from settings, single listeners. Not API: it changes with the engines and the CLI. Apps,
 * engine authors and embedders use '@gatehouse/core'.
 */

// Settings resolution (the CLI) and the settings a supervisor hands its workers.
export { ENV_PREFIX, flagName, snakeName, envName } from './settings/names.js';
export { describeSource, allowedValues, formatSettingValue, type SettingSource } from './settings/parse.js';
export { resolveSettings, entriesFromEnv, entriesFromObject, type SettingEntry, type ResolvedSettings } from './settings/resolve.js';
export { findConfigFile, readConfigFile, entriesFromConfigFile, loadConfigHooks, serializableSettings } from './settings/config-file.js';
export { nearest } from './settings/suggest.js';
export { applyAutoSize, type AutoSized, type AutoSizedSetting } from './settings/auto-size.js';
export { usableCpus, CGROUP_ROOT_VARIABLE, type UsableCpus, type UsableCpusOptions, type CpuQuota } from './usable-cpus.js';

// Signals -> engine calls, one at a time.
export { ActionLoop, type EngineAction, type HandledSignal, type ActionLoopHooks, type ActionObserver } from './engine/signals.js';

// Engine plumbing below the public contract.
export { AbortableRequest } from './gateway/request.js';
export { importableSpecifier } from './app/import.js';
export { protocolOptionsFrom, type ProtocolOptions, type ParserLimits } from './http/options.js';
export { parseBind, bindListener, bindForWorkers, type HeldListener } from './net/listen.js';
export { stopReading } from './net/stop-reading.js';

// The supervision policy both supervisors (prefork's arbiter, the thread pool) apply.
export {
  Liveness, BootBackoff, RepeatedLine, heartbeatInterval, recycleAfter, memoryRecycleMark, shouldRecycleForMemory, restartCounts,
  MEMORY_RECYCLE_FRACTION, BOOT_BACKOFF_BASE_MS, BOOT_BACKOFF_MAX_MS,
  type Clock, type LivenessOptions, type RestartCause, type RestartCounts,
} from './engine/supervision.js';

// --sticky: which unit a client address belongs to, stable as units come and go.
export { rendezvousPick, rendezvousScore, freeSlot } from './engine/rendezvous.js';

// The first phase of a graceful stop (--stop-delay).
export { delayStop } from './engine/stop-delay.js';
export type { HealthState } from './http/health.js';

// Which unit ran a request, for the access log of engines that run requests off the I/O thread.
export { recordRequestUnit } from './request-unit.js';

// Accepting while out of descriptors: listeners a worker receives get the same guard.
export { descriptorsExhausted, guardAccept, holdConnections } from './net/accept.js';
export { checkAppInThread } from './app/check-in-thread.js';

// A response that takes its connection (accepted upgrades): engines that run the app off the
// socket's loop make one on the socket's side that carries the bytes across.
export { TAKEOVER, takeoverOf, takeoverResponse, requestedUpgrade, goingAwayLead, type Takeover, type TakenConnection, type TakeoverResponse } from './gateway/takeover.js';

// Gateway 1.1 interim responses and trailers: the checks every side that sends them applies
// (an app thread checks them before they cross; app-runtime.ts exports them there).
export { interimFields } from './gateway/interim.js';
export { acceptsTrailers, trailerFields, FORBIDDEN_TRAILERS } from './gateway/trailers.js';
