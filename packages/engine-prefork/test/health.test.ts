// The health paths under the `prefork` engine: each worker answers for itself; a reload drains the old workers.
import { runHealthSuite } from '@gatehouse/core/testkit';
import { PreforkEngine } from '../src/index.js';

runHealthSuite('prefork', PreforkEngine, { reload: 'hands-over' });
