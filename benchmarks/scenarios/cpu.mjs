// Scenario "cpu": every request computes fib(25) on the thread that runs the app, so the
// engine's parallelism (processes, threads) is what scales it.
import { cpuWork } from './work.mjs';

export default function cpu() {
  return { status: 200, headers: [['content-type', 'text/plain']], body: cpuWork() };
}
