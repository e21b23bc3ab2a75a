// HTTP/2 attacks under the `single` engine (one process, the app on its loop).
import { runHttp2AttackSuite, engineStarter } from './kit/index.js';
import { SingleEngine } from '../src/engine/single.js';

runHttp2AttackSuite('single', engineStarter(SingleEngine));
