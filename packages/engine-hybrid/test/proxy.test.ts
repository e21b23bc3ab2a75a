// The proxy suite (X-Forwarded-* trust, the PROXY protocol and its allow list) under the `hybrid` engine, through its own socket handoff (2 worker processes x 1 app thread).
import { runProxySuite } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

runProxySuite('hybrid', HybridEngine, { workers: 2, threads: 1 });
