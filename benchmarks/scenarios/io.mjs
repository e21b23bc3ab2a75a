// Scenario "io": every request awaits a 10 ms timer, as a database call would: throughput is
// bound by how many requests are in flight at once, not by CPU.
import { ioWait } from './work.mjs';

export default async function io() {
  await ioWait();
  return { status: 200, headers: [['content-type', 'text/plain']], body: 'waited\n' };
}
