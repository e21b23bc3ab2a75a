// examples/cpu served by the single engine. Expected prime counts are pi(x), the known values
// of the prime-counting function (OEIS A000720 / A006880), not figures taken from the app.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { serveForSuite } from './engines.mjs';

const APP = fileURLToPath(new URL('../cpu/', import.meta.url));

describe('examples/cpu', { timeout: 20_000 }, () => {
  const served = serveForSuite(APP);

  it('GET /cpu?n=N counts the primes up to N, as JSON', async () => {
    for (const [n, primes] of [[1, 0], [2, 1], [10, 4], [100, 25], [1000, 168], [10000, 1229]]) {
      const response = await fetch(`${served.base}/cpu?n=${n}`);
      assert.equal(response.status, 200);
      assert.equal(response.headers.get('content-type'), 'application/json');
      assert.deepEqual(await response.json(), { n, primes });
    }
  });

  it('GET /cpu without n uses the default n = 100000 (pi = 9592)', async () => {
    assert.deepEqual(await (await fetch(`${served.base}/cpu`)).json(), { n: 100000, primes: 9592 });
  });

  it('is deterministic: the same n gives the same answer every time', async () => {
    const answers = await Promise.all([1, 2, 3].map(async () => (await fetch(`${served.base}/cpu?n=5000`)).json()));
    assert.deepEqual(answers, [{ n: 5000, primes: 669 }, { n: 5000, primes: 669 }, { n: 5000, primes: 669 }]);
  });

  it('answers 400 for a bad n, with a JSON error that says what n may be', async () => {
    for (const bad of ['abc', '-5', '0', '1.5', '1e5', '', '%2010', '5000001', '99999999999', '10&n=20']) {
      const response = await fetch(`${served.base}/cpu?n=${bad}`);
      assert.equal(response.status, 400, `n=${bad}`);
      assert.match((await response.json()).error, /n must be one integer from 1 to 5000000/);
    }
  });

  it('answers 404 for other paths and 405 (with Allow) for other methods', async () => {
    assert.equal((await fetch(`${served.base}/`)).status, 404);
    const post = await fetch(`${served.base}/cpu?n=10`, { method: 'POST', body: 'x' });
    assert.equal(post.status, 405);
    assert.equal(post.headers.get('allow'), 'GET, HEAD');
  });
});
