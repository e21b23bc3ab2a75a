// The engines the node:http upgrade tests run under, with the settings each needs. The app's
// 'upgrade' listener gets the connection's own socket where the app runs on the socket's loop
// (single, prefork); threaded and hybrid get a line here once their takeover bridge lands.
import { SingleEngine } from '../../packages/core/dist/src/index.js';
import PreforkEngine from '../../packages/engine-prefork/dist/src/index.js';

/** [label, Engine class, settings] */
export const UPGRADE_ENGINES = [
  ['single', SingleEngine, { engine: 'single' }],
  ['prefork --workers 1', PreforkEngine, { engine: 'prefork', workers: 1 }],
];
