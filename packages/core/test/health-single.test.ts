// The health paths under the `single` engine: a reload drains the old generation in this process.
import { runHealthSuite } from './kit/index.js';
import { SingleEngine } from '../src/engine/single.js';

runHealthSuite('single', SingleEngine, { reload: 'drains', reloadAwaitsDrain: true });
