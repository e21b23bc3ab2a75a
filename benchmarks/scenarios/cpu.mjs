// Scenario "cpu" (used when examples/cpu is absent): GET /cpu?n=N counts the primes up to N on
// the thread that runs the app, so the engine's parallelism (processes, threads) is what scales it.
import { cpuWork } from './work.mjs';

export default function cpu(request) {
  return { status: 200, headers: [['content-type', 'application/json']], body: cpuWork(request.query) };
}
