// The health paths under the `threaded` engine: answered on the I/O thread; a reload rolls threads behind the same sockets.
import { runHealthSuite } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../src/index.js';

runHealthSuite('threaded', ThreadedEngine, { reload: 'keeps', appThreads: true });
