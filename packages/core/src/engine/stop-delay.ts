/*
 * --stop-delay: the first phase of a graceful stop. Readiness turns 503 at once while the
 * listeners stay open and requests are served as before, for the delay; only then do the
 * listeners close and connections drain (--graceful-timeout). A load balancer or Kubernetes'
 * endpoint controllers need a moment to stop routing to a server that is going away; closing
 * the listeners first would refuse what they still send (the reason for a preStop `sleep`).
 * Every engine calls this at the top of a graceful stop; a fast stop skips it.
 */
import { channels } from '../diagnostics.js';

/** Runs `announce` (readiness 503 everywhere this engine serves), then waits `seconds`. */
export async function delayStop(engine: string, seconds: number, announce: () => void): Promise<void> {
  announce();
  if (!(seconds > 0)) return;
  channels.engine.publish({ engine, event: 'stop-delay', detail: `readiness answers 503; serving ${seconds}s more before the listeners close (--stop-delay)` });
  await new Promise((resolve) => setTimeout(resolve, seconds * 1000));
}
