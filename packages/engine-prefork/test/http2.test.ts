// HTTP/2 under the `prefork` engine (a master and 2 worker processes).
import { runHttp2Suite, engineStarter } from '@gatehouse/core/testkit';
import { PreforkEngine } from '../src/index.js';

runHttp2Suite('prefork', engineStarter(PreforkEngine, { workers: 2 }), { timeoutMs: 180_000 });
