// The health paths under the `hybrid` engine: each worker's I/O thread answers for its process and its app threads.
import { runHealthSuite } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

runHealthSuite('hybrid', HybridEngine, { reload: 'hands-over', appThreads: true });
