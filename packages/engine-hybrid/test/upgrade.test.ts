// Upgraded connections under the hybrid engine, 2 processes x 2 threads: inside each worker
// process they cross to its app threads as under `threaded`; a reload replaces whole
// processes, and an old process keeps its connections until they close or its graceful
// timeout. The app is the threaded engine's upgrade fixture (core's upgrade suite describes it).
// Reloads use the default rolling strategy: an old process holding only upgraded connections
// lingers, and the roll goes on without waiting for it (docs/engines.md, "Long-lived
// connections during a reload").
import { fileURLToPath } from 'node:url';
import { runUpgradeSuite } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

const APP = fileURLToPath(new URL('../../../engine-threaded/test/fixtures/upgrade.mjs', import.meta.url));

runUpgradeSuite('hybrid', HybridEngine, { app: APP, settings: { workers: 2, threads: 2, reloadStrategy: 'rolling' } });
