/*
 * The write batch (src/http/write-batch.ts): responses written in one loop turn leave
 * together, and never wait long. The rules are checked with a hand-driven clock; the bound
 * that matters most to users (a slow app's responses are not held behind the next request)
 * with the real `serve` bin, timing arrivals in this process while the server's loop is busy.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { HOLD_BUDGET_MS, WriteBatch, type HeldWriter, type WriteBatchClock } from '../src/http/write-batch.js';
import { RawClient } from './kit/index.js';
import { spawnServe } from './kit/serve-bin.js';

/** A clock the test moves by hand, and an after-poll queue it runs by hand. */
function handClock(): WriteBatchClock & { time: number; runAfterPoll(): void; scheduled: number } {
  let queue: Array<() => void> = [];
  const clock = {
    time: 0,
    scheduled: 0,
    now: () => clock.time,
    afterPoll: (task: () => void) => { clock.scheduled++; queue.push(task); },
    runAfterPoll: () => { const tasks = queue; queue = []; for (const task of tasks) task(); },
  };
  return clock;
}

function writer(log: string[], name: string): HeldWriter {
  return { flushHeld: () => { log.push(name); } };
}

describe('write batch: rules', () => {
  /** A batch whose loop has just sent a response (so the next ones are not "after quiet"). */
  function busyBatch() {
    const clock = handClock();
    const batch = new WriteBatch(clock);
    batch.hold(writer([], 'earlier'));
    return { clock, batch };
  }

  it('sends what was written in one busy turn together, after the poll phase, each writer once', () => {
    const { clock, batch } = busyBatch();
    const flushed: string[] = [];
    batch.hold(writer(flushed, 'a'));
    batch.hold(writer(flushed, 'b'));
    batch.hold(writer(flushed, 'c'));
    assert.deepEqual(flushed, [], 'nothing leaves before the poll phase is over');
    assert.equal(clock.scheduled, 1, 'one after-poll task per batch');
    clock.runAfterPoll();
    assert.deepEqual(flushed, ['a', 'b', 'c']);
    assert.equal(batch.size, 0);
    clock.runAfterPoll();
    assert.deepEqual(flushed, ['a', 'b', 'c']);
  });

  it('sends the batch at once when a response joins it more than the budget after the first', () => {
    const { clock, batch } = busyBatch();
    const flushed: string[] = [];
    batch.hold(writer(flushed, 'first'));
    for (let i = 0; i < 3; i++) {
      clock.time += HOLD_BUDGET_MS / 2; // each close to the one before, the batch growing old
      batch.hold(writer(flushed, `next${i}`));
    }
    assert.deepEqual(flushed, ['first', 'next0', 'next1', 'next2'], 'sent when the third came, 1.5 budgets after the first');
    // The next batch is timed from its own first response.
    batch.hold(writer(flushed, 'new'));
    clock.time += HOLD_BUDGET_MS / 2;
    batch.hold(writer(flushed, 'new-within'));
    assert.equal(batch.size, 2);
    clock.runAfterPoll();
    assert.deepEqual(flushed.slice(4), ['new', 'new-within']);
  });

  it('does not hold a response that comes after a quiet stretch longer than the budget (slow work, or an idle loop)', () => {
    const clock = handClock();
    const batch = new WriteBatch(clock);
    const flushed: string[] = [];
    batch.hold(writer(flushed, 'first-ever'));
    assert.deepEqual(flushed, ['first-ever'], 'an idle loop sends at once');
    clock.time += HOLD_BUDGET_MS / 10;
    batch.hold(writer(flushed, 'quick'));
    assert.deepEqual(flushed, ['first-ever'], 'held: the loop is busy with quick requests');
    clock.time += HOLD_BUDGET_MS * 20; // a slow request (its response also ends the batch)
    batch.hold(writer(flushed, 'after-slow'));
    assert.deepEqual(flushed, ['first-ever', 'quick', 'after-slow']);
    clock.time += HOLD_BUDGET_MS * 20; // and another
    batch.hold(writer(flushed, 'after-slow-2'));
    assert.deepEqual(flushed.at(-1), 'after-slow-2', 'slow work in a row: each response leaves at once');
  });

  it('a writer that writes again while the batch is being sent joins the next batch', () => {
    const { clock, batch } = busyBatch();
    let flushes = 0;
    const again: HeldWriter = { flushHeld: () => { flushes++; if (flushes === 1) batch.hold(again); } };
    batch.hold(again);
    clock.runAfterPoll();
    assert.equal(flushes, 1);
    assert.equal(batch.size, 1);
    clock.runAfterPoll();
    assert.equal(flushes, 2);
    assert.equal(batch.size, 0);
  });
});

/**
 * /spin?ms=N blocks the server's event loop for N ms, as a CPU-bound handler does; with
 * &after=await it does so after an await, outside the call that dispatched it (as an app that
 * awaits its body or a cache first).
 */
const SPIN_APP = `export default async (request) => {
  const params = new URL(request.target, 'http://x').searchParams;
  if (params.get('after') === 'await') await null;
  const ms = Number(params.get('ms') ?? 0);
  const until = Date.now() + ms;
  while (Date.now() < until) { /* busy */ }
  return { status: 200, body: request.path + ' ' + ms };
};
`;

describe('write batch: a real server', { timeout: 60_000 }, () => {
  for (const after of ['none', 'await']) {
    it(`does not hold a slow app's response while the next request runs (work ${after === 'await' ? 'after an await' : 'in the call'})`, async (t) => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-batch-'));
      t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
      fs.writeFileSync(path.join(dir, 'app.mjs'), SPIN_APP);
      const serve = spawnServe(['app.mjs', '--engine', 'single', '--bind', '127.0.0.1:0'], { cwd: dir });
      t.after(() => serve.dispose());
      const port = Number(new URL((await serve.ready).addresses[0]!).port);

      const SPIN_MS = 150;
      const clients = await Promise.all([0, 1, 2, 3].map(() => RawClient.connect(port)));
      t.after(() => { for (const client of clients) client.destroy(); });
      const get = (name: string, ms = SPIN_MS) => `GET /${name}?ms=${ms}&after=${after} HTTP/1.1\r\nHost: t\r\n\r\n`;
      // One quick exchange each first: a socket's very first read comes a loop turn after it
      // is accepted, which would spread the requests below over several turns on its own.
      for (const client of clients) { await client.write(get('warm', 0)); await client.readResponses(1); }
      // The first request blocks the server's loop; the next three arrive meanwhile, so the
      // server finds them ready together, as under load.
      await clients[0]!.write(get('first'));
      await new Promise((r) => setTimeout(r, 30));
      for (const [i, client] of clients.slice(1).entries()) await client.write(get(`next${i}`));

      const arrivals = await Promise.all(clients.slice(1).map(async (client) => {
        const response = (await client.readResponses(2))[1]!; // the first was the warm-up's
        assert.equal(response.status, 200);
        return performance.now();
      }));
      arrivals.sort((a, b) => a - b);
      // Each response leaves when its request is done, one spin apart; held until the batch's
      // end they would arrive together, and held for one more run two would arrive together.
      const gaps = [arrivals[1]! - arrivals[0]!, arrivals[2]! - arrivals[1]!];
      for (const gap of gaps) assert.ok(gap > SPIN_MS / 2, `responses arrived ${gaps.map((g) => g.toFixed(0)).join(' and ')} ms apart; each should follow its own ${SPIN_MS} ms run`);
    });
  }
});
