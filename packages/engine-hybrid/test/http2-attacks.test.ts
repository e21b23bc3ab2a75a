// HTTP/2 attacks under the `hybrid` engine (2 worker processes x 2 app threads).
import { runHttp2AttackSuite, engineStarter } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

runHttp2AttackSuite('hybrid', engineStarter(HybridEngine, { workers: 2, threads: 2 }));
