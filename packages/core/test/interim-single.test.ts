// Interim responses and trailers under the in-loop `single` engine.
import { runInterimSuite } from './kit/index.js';
import { SingleEngine } from '../src/engine/single.js';

runInterimSuite('single', SingleEngine);
