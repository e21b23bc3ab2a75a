// Interim responses and trailers under the `prefork` engine.
import { runInterimSuite } from '@gatehouse/core/testkit';
import { PreforkEngine } from '../src/index.js';

runInterimSuite('prefork', PreforkEngine);
