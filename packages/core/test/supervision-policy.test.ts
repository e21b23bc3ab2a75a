/*
 * The supervision policy on a fake clock: liveness and its off switch, the frozen-supervisor
 * rule, max-requests jitter bounds, boot back-off growth and reset, memory recycling, and the
 * folding of a repeated log line.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import {
  BootBackoff, Liveness, RepeatedLine, heartbeatInterval, memoryRecycleMark, recycleAfter, restartCounts, shouldRecycleForMemory,
} from '../src/index.js';

function fakeClock(start = 1000): { now: () => number; advance(ms: number): void } {
  let t = start;
  return { now: () => t, advance(ms: number) { t += ms; } };
}

/** Runs supervisor passes every `intervalMs` for `ms`, returning every unit found overdue. */
function passes<U>(liveness: Liveness<U>, clock: { advance(ms: number): void }, ms: number, beat: (() => void) | null = null): U[] {
  const found: U[] = [];
  for (let t = 0; t < ms; t += liveness.intervalMs) {
    clock.advance(liveness.intervalMs);
    beat?.();
    found.push(...liveness.overdue());
  }
  return found;
}

describe('heartbeat interval', () => {
  it('is a quarter of the timeout within 50 ms..1 s, and 1 s with liveness off', () => {
    assert.equal(heartbeatInterval(2), 500);
    assert.equal(heartbeatInterval(30), 1000);
    assert.equal(heartbeatInterval(0.1), 50);
    assert.equal(heartbeatInterval(0), 1000);
  });
});

describe('liveness', () => {
  it('a ready unit silent for longer than the timeout is overdue; one that beats is not', () => {
    const clock = fakeClock();
    const liveness = new Liveness<string>({ timeoutSeconds: 2, clock: clock.now });
    liveness.watch('quiet'); liveness.ready('quiet');
    liveness.watch('beating'); liveness.ready('beating');
    assert.deepEqual(passes(liveness, clock, 2000, () => liveness.beat('beating')), []);
    assert.deepEqual(passes(liveness, clock, 500, () => liveness.beat('beating')), ['quiet']);
    assert.equal(liveness.silentFor('beating'), 0);
  });

  it('timeout 0 turns the check off: a unit silent for an hour is never overdue', () => {
    const clock = fakeClock();
    const liveness = new Liveness<string>({ timeoutSeconds: 0, clock: clock.now });
    liveness.watch('a'); liveness.ready('a');
    assert.equal(liveness.enabled, false);
    assert.deepEqual(passes(liveness, clock, 3_600_000), []);
  });

  it('a booting unit gets the boot allowance, a ready one the timeout', () => {
    const clock = fakeClock();
    const liveness = new Liveness<string>({ timeoutSeconds: 1, bootTimeoutMs: 10_000, clock: clock.now });
    liveness.watch('booting');
    assert.deepEqual(passes(liveness, clock, 9750), []);
    assert.deepEqual(passes(liveness, clock, 500), ['booting']);
  });

  it('a forgotten unit is never reported', () => {
    const clock = fakeClock();
    const liveness = new Liveness<string>({ timeoutSeconds: 1, clock: clock.now });
    liveness.watch('gone'); liveness.ready('gone'); liveness.forget('gone');
    assert.deepEqual(passes(liveness, clock, 5000), []);
  });

  it('a frozen supervisor restarts every clock instead of blaming its units', () => {
    const clock = fakeClock();
    const liveness = new Liveness<string>({ timeoutSeconds: 2, clock: clock.now });
    liveness.watch('a'); liveness.ready('a');
    liveness.watch('b'); liveness.ready('b');
    assert.deepEqual(passes(liveness, clock, 1000, () => { liveness.beat('a'); liveness.beat('b'); }), []);
    clock.advance(5000); // SIGSTOP of the group for 5 s: no pass, no beat
    assert.deepEqual(liveness.overdue(), []);
    assert.equal(liveness.stalls, 1);
    assert.equal(liveness.silentFor('a'), 0);
    // The clocks restarted, they did not stop: a unit that stays silent after the freeze is caught.
    assert.deepEqual(passes(liveness, clock, 2000, () => liveness.beat('b')), []);
    assert.deepEqual(passes(liveness, clock, 500, () => liveness.beat('b')), ['a']);
  });

  it('a freeze before the supervisor\'s first pass is forgiven too', () => {
    const clock = fakeClock();
    const liveness = new Liveness<string>({ timeoutSeconds: 2, clock: clock.now });
    liveness.watch('a'); liveness.ready('a');
    clock.advance(5000);
    assert.deepEqual(liveness.overdue(), []);
    assert.equal(liveness.stalls, 1);
  });

  it('a pass that is only a little late still judges: a stuck unit is not forgiven by ordinary jitter', () => {
    const clock = fakeClock();
    const liveness = new Liveness<string>({ timeoutSeconds: 2, clock: clock.now });
    liveness.watch('stuck'); liveness.ready('stuck');
    clock.advance(900); assert.deepEqual(liveness.overdue(), []); // late by 400 ms: below stallMs
    clock.advance(900); assert.deepEqual(liveness.overdue(), []);
    clock.advance(900); assert.deepEqual(liveness.overdue(), ['stuck']);
    assert.equal(liveness.stalls, 0);
  });
});

describe('max-requests', () => {
  it('each unit draws its limit once within [max, max + jitter]', () => {
    const seen = new Set<number>();
    for (let i = 0; i < 2000; i++) {
      const limit = recycleAfter(100, 5);
      assert.ok(limit >= 100 && limit <= 105, `${limit} within [100, 105]`);
      seen.add(limit);
    }
    assert.deepEqual([...seen].sort((a, b) => a - b), [100, 101, 102, 103, 104, 105]);
    assert.equal(recycleAfter(100, 5, (n) => n - 1), 105);
    assert.equal(recycleAfter(100, 5, () => 0), 100);
  });

  it('no jitter is exactly max; max 0 is never', () => {
    assert.equal(recycleAfter(7, 0), 7);
    assert.equal(recycleAfter(0, 50), Infinity);
  });
});

describe('boot back-off', () => {
  it('1 s doubling to 30 s for early crashes, spawns wait it out, a unit coming up resets it', () => {
    const clock = fakeClock();
    const backoff = new BootBackoff({ clock: clock.now });
    assert.equal(backoff.wait(), 0);
    const delays = Array.from({ length: 8 }, () => backoff.crashed());
    assert.deepEqual(delays, [1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000]);
    assert.equal(backoff.wait(), 30000);
    clock.advance(29_999);
    assert.equal(backoff.wait(), 1);
    clock.advance(1);
    assert.equal(backoff.wait(), 0);
    backoff.reset();
    assert.equal(backoff.crashes, 0);
    assert.equal(backoff.crashed(), 1000);
  });
});

describe('memory recycling', () => {
  it('recycles past 90% of the limit, never without one', () => {
    const limit = 128 * 1024 * 1024;
    assert.equal(memoryRecycleMark(limit), limit * 0.9);
    assert.equal(shouldRecycleForMemory(limit * 0.9 - 1, limit), false);
    assert.equal(shouldRecycleForMemory(limit * 0.9 + 1, limit), true);
    assert.equal(shouldRecycleForMemory(Number.MAX_SAFE_INTEGER, 0), false);
  });
});

describe('restart record', () => {
  it('names every cause at zero, a fresh object each time', () => {
    const a = restartCounts();
    assert.deepEqual(a, { crash: 0, timeout: 0, 'max-requests': 0, memory: 0, reload: 0 });
    a.crash++;
    assert.equal(restartCounts().crash, 0);
  });
});

describe('repeated log line', () => {
  it('writes the first, folds repeats within a minute, then says how many', () => {
    const clock = fakeClock();
    const lines = new RepeatedLine({ clock: clock.now });
    const written: string[] = [];
    for (let i = 0; i < 100; i++) {
      const line = lines.next('thread 1 died while booting');
      if (line) written.push(line);
      clock.advance(1000);
    }
    assert.deepEqual(written, ['thread 1 died while booting', 'thread 1 died while booting (repeated 61 times)']);
    assert.equal(lines.next('another failure'), 'another failure');
  });
});
