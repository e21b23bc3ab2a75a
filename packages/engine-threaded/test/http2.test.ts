// HTTP/2 under the `threaded` engine (one process, 2 app threads). Trailers and 103 need the
// thread crossing to carry them (GatewayResponse.trailers, request.sendInterim).
import { runHttp2Suite, engineStarter } from '@gatehouse/core/testkit';
import { ThreadedEngine } from '../src/index.js';

runHttp2Suite('threaded', engineStarter(ThreadedEngine, { threads: 2 }), { trailersAndInterim: false });
