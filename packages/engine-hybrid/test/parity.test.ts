// The engine parity suite against the `hybrid` engine (2 worker processes x 2 app threads).
import { runParitySuite, engineStarter } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

runParitySuite('hybrid', engineStarter(HybridEngine, { workers: 2, threads: 2 }));
