// Upgraded connections under the hybrid engine, 2 processes x 2 threads: inside each worker
// process they cross to its app threads as under `threaded`; a reload replaces whole
// processes, and an old process keeps its connections until they close or its graceful
// timeout. The app is the threaded engine's upgrade fixture (core's upgrade suite describes it).
// Reloads here replace the whole generation at once: a rolling reload of processes waits for
// each old process to exit before the next new one starts, and an old process holding upgraded
// connections exits only at its graceful timeout (docs/engines.md, hybrid).
import { fileURLToPath } from 'node:url';
import { runUpgradeSuite } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

const APP = fileURLToPath(new URL('../../../engine-threaded/test/fixtures/upgrade.mjs', import.meta.url));

runUpgradeSuite('hybrid', HybridEngine, { app: APP, settings: { workers: 2, threads: 2, reloadStrategy: 'generation' } });
