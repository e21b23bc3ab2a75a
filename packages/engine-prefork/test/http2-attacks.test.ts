// HTTP/2 attacks under the `prefork` engine (a master and 2 worker processes).
import { runHttp2AttackSuite, engineStarter } from '@gatehouse/core/testkit';
import { PreforkEngine } from '../src/index.js';

runHttp2AttackSuite('prefork', engineStarter(PreforkEngine, { workers: 2 }));
