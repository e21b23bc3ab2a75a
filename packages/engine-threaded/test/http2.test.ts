// HTTP/2 under the `threaded` engine (one process, 2 app threads), trailers and 103 included: they cross
// from the app thread with the response (GatewayResponse.trailers, request.sendInterim).
import { runHttp2Suite, engineStarter } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../src/index.js';

runHttp2Suite('threaded', engineStarter(ThreadedEngine, { threads: 2 }));
