// The engine parity suite against the `threaded` engine (one process, 2 app threads).
import { runParitySuite, engineStarter } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../src/index.js';

runParitySuite('threaded', engineStarter(ThreadedEngine, { threads: 2 }));
