// The engines the WebSocket and socket.io example tests run under, with the settings each
// needs. UPGRADE_ENGINES is the matrix: one process, then several units per engine with
// --sticky, so every request of one client (socket.io's polls, the upgrade that follows them)
// reaches the unit holding its session, and clients from one address share one unit (they
// hear each other's broadcasts). UNSTICKY is prefork with two workers and no --sticky: plain
// WebSockets work there, socket.io's long-polling does not (docs/engines.md, "Sticky sessions").
import { SingleEngine } from '../../packages/core/dist/src/index.js';
import PreforkEngine from '../../packages/engine-prefork/dist/src/index.js';
import ThreadedEngine from '../../packages/engine-threaded/dist/src/index.js';
import HybridEngine from '../../packages/engine-hybrid/dist/src/index.js';

/** [label, Engine class, settings] */
export const UPGRADE_ENGINES = [
  ['single', SingleEngine, { engine: 'single' }],
  ['prefork --workers 2 --sticky', PreforkEngine, { engine: 'prefork', workers: 2, sticky: true }],
  ['threaded --threads 2 --sticky', ThreadedEngine, { engine: 'threaded', threads: 2, sticky: true }],
  ['hybrid --workers 2 --threads 2 --sticky', HybridEngine, { engine: 'hybrid', workers: 2, threads: 2, sticky: true }],
];

/** [label, Engine class, settings]: several units, each client's connections wherever they land. */
export const UNSTICKY = ['prefork --workers 2', PreforkEngine, { engine: 'prefork', workers: 2 }];
