// HTTP/2 under the `single` engine (one process, the app on its loop).
import { runHttp2Suite, engineStarter } from './kit/index.js';
import { SingleEngine } from '../src/engine/single.js';

runHttp2Suite('single', engineStarter(SingleEngine));
