// The proxy suite (X-Forwarded-* trust, the PROXY protocol and its allow list) under the `prefork` engine, through its own socket handoff (2 worker processes).
import { runProxySuite } from '@gatehouse/core/testkit';
import { PreforkEngine } from '../src/index.js';

runProxySuite('prefork', PreforkEngine, { workers: 2 });
