// Interim responses and trailers under the `hybrid` engine.
import { runInterimSuite } from '@gatehouse/core/testkit';
import { HybridEngine } from '../src/index.js';

runInterimSuite('hybrid', HybridEngine);
