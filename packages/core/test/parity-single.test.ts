// The engine parity suite against the `single` engine (one process, the app on its loop).
import { runParitySuite, engineStarter } from './kit/index.js';
import { SingleEngine } from '../src/engine/single.js';

runParitySuite('single', engineStarter(SingleEngine));
