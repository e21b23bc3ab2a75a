// benchmarks/memory/idle-rss.mjs: bad input gets one line and exit code 2; idle measurement
// (no wrk needed) sums the RSS of a server's whole process tree.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../memory/idle-rss.mjs', import.meta.url));
const run = (args) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', timeout: 60_000 });

const SERVER = fileURLToPath(new URL('./fixtures/tiny-server.mjs', import.meta.url));

describe('benchmarks/memory/idle-rss.mjs', () => {
  for (const { args, says } of [
    { args: [], says: /give at least one NAME=COMMAND/ },
    { args: ['=node x.js'], says: /"=node x.js" is not NAME=COMMAND/ },
    { args: ['--rounds', '0', 'a=x'], says: /--rounds needs a positive number, got 0/ },
    { args: ['--idle', '3', 'a=x'], says: /unknown option --idle; known: --rounds, --load, --idle-ms/ },
  ]) {
    it(`${JSON.stringify(args)}: exit 2 and one line`, () => {
      const result = run(args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, says);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    });
  }

  it('counts every process of the tree, the root and its children apart', { timeout: 60_000 }, () => {
    const result = run(['--rounds', '1', '--idle-ms', '100', `one=node ${SERVER}`, `two=node ${SERVER} child`]);
    assert.equal(result.status, 0, result.stderr);
    const { rows } = JSON.parse(result.stdout.trim().split('\n').at(-1));
    const [one, two] = rows;
    assert.equal(one.server, 'one');
    assert.equal(one.processes, 1);
    assert.equal(one.idleChildrenMiB, 0);
    assert.equal(two.processes, 2);
    // A node process is tens of MiB; the tree is the root plus its child.
    assert.ok(one.idleTreeMiB > 10, JSON.stringify(one));
    assert.ok(two.idleChildrenMiB > 10 && Math.abs(two.idleTreeMiB - two.idleRootMiB - two.idleChildrenMiB) < 0.2, JSON.stringify(two));
  });
});
