// HTTP/2 attacks under the `threaded` engine: the sessions live on the I/O thread, so the
// limits act there before anything crosses to the 2 app threads.
import { runHttp2AttackSuite, engineStarter } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../src/index.js';

runHttp2AttackSuite('threaded', engineStarter(ThreadedEngine, { threads: 2 }));
