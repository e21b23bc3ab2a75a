// A CPU-bound endpoint for comparing engines: GET /cpu?n=N counts the primes up to N by trial
// division (deterministic, pure JavaScript, no I/O) and answers {"n": N, "primes": count}.
// The default N (100000) takes a few milliseconds; N is capped so one request stays bounded.
export const DEFAULT_N = 100_000;
export const MAX_N = 5_000_000;

const JSON_TYPE = [['content-type', 'application/json']];

export function countPrimes(limit) {
  let count = 0;
  outer: for (let candidate = 2; candidate <= limit; candidate++) {
    for (let divisor = 2; divisor * divisor <= candidate; divisor++) {
      if (candidate % divisor === 0) continue outer;
    }
    count++;
  }
  return count;
}

function json(status, value, method, extraHeaders = []) {
  return { status, headers: [...JSON_TYPE, ...extraHeaders], body: method === 'HEAD' ? null : JSON.stringify(value) };
}

/** n from the query: absent means DEFAULT_N; otherwise plain digits from 1 to MAX_N. */
function parseN(query) {
  const raw = new URLSearchParams(query).getAll('n');
  if (raw.length === 0) return DEFAULT_N;
  if (raw.length > 1) return null;
  if (!/^[0-9]{1,7}$/.test(raw[0])) return null;
  const n = Number(raw[0]);
  return n >= 1 && n <= MAX_N ? n : null;
}

export default function cpu(request) {
  if (request.path !== '/cpu') return json(404, { error: 'not found: try GET /cpu?n=100000' }, request.method);
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    return json(405, { error: 'method not allowed' }, request.method, [['allow', 'GET, HEAD']]);
  }
  const n = parseN(request.query);
  if (n === null) return json(400, { error: `n must be one integer from 1 to ${MAX_N}` }, request.method);
  return json(200, { n, primes: countPrimes(n) }, request.method);
}
