// HTTP/2 under the `hybrid` engine (2 worker processes x 2 app threads), trailers and 103 included: they cross
// from the app thread with the response (GatewayResponse.trailers, request.sendInterim).
import { runHttp2Suite, engineStarter } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

runHttp2Suite('hybrid', engineStarter(HybridEngine, { workers: 2, threads: 2 }), { timeoutMs: 180_000 });
