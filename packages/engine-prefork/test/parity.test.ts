// The engine parity suite against the `prefork` engine (a master and 2 worker processes).
import { runParitySuite, engineStarter } from '@gatehouse/core/testkit';
import { PreforkEngine } from '../src/index.js';

runParitySuite('prefork', engineStarter(PreforkEngine, { workers: 2 }), { timeoutMs: 90_000 });
