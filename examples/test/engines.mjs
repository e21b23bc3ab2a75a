// Every built-in engine class, from the packages' builds, for tests that run an example app
// under each. An engine that does not load is an error here, not a skip: all of them are
// built before the tests run, and a broken one must fail the suite.
import { before, after } from 'node:test';
import { SingleEngine, defaultSettings } from '../../packages/core/dist/src/index.js';
import PreforkEngine from '../../packages/engine-prefork/dist/src/index.js';
import ThreadedEngine from '../../packages/engine-threaded/dist/src/index.js';
import HybridEngine from '../../packages/engine-hybrid/dist/src/index.js';

/** [name, Engine class] for each built-in engine. */
export const ENGINES = [
  ['single', SingleEngine],
  ['threaded', ThreadedEngine],
  ['prefork', PreforkEngine],
  ['hybrid', HybridEngine],
];

/**
 * Serves APP (a path or spec) for the enclosing describe(), under `Engine` (single by default)
 * with `settings` over the defaults: starts it in before(), stops it in after(). `base` (URL,
 * no trailing slash) and `port` are set once before() has run.
 */
export function serveForSuite(app, Engine = SingleEngine, settings = {}) {
  const served = { base: '', port: 0, engine: null };
  before(async () => {
    served.engine = new Engine({ settings: { ...defaultSettings(), bind: ['127.0.0.1:0'], ...settings }, app: { kind: 'module', spec: app } });
    await served.engine.start();
    served.base = served.engine.addresses[0].url.replace(/\/$/, '');
    served.port = served.engine.addresses[0].port;
  });
  after(() => served.engine?.stop({ graceful: false }));
  return served;
}
