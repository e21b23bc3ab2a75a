// Every built-in engine class, from the packages' builds, for tests that run an example app
// under each. An engine that does not load is an error here, not a skip: all of them are
// built before the tests run, and a broken one must fail the suite.
import { SingleEngine } from '../../packages/core/dist/src/index.js';
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
