// HTTP/2 under the `hybrid` engine (2 worker processes x 2 app threads). Trailers and 103 need
// the thread crossing to carry them (GatewayResponse.trailers, request.sendInterim).
import { runHttp2Suite, engineStarter } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

runHttp2Suite('hybrid', engineStarter(HybridEngine, { workers: 2, threads: 2 }), { trailersAndInterim: false, timeoutMs: 180_000 });
