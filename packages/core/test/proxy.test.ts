// The proxy suite (X-Forwarded-* trust, the PROXY protocol and its allow list) under the single engine.
import { SingleEngine } from '../src/engine/single.js';
import { runProxySuite } from './kit/proxy-suite.js';

runProxySuite('single', SingleEngine as never);
