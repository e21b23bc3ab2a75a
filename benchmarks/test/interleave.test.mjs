// benchmarks/interleave.mjs answers bad input with one line and exit code 2, before it starts
// anything (the measuring itself needs wrk, which tests never do).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const SCRIPT = fileURLToPath(new URL('../interleave.mjs', import.meta.url));
const run = (args, env = process.env) => spawnSync(process.execPath, [SCRIPT, ...args], { encoding: 'utf8', env, timeout: 10_000 });

describe('benchmarks/interleave.mjs: bad input', () => {
  const cases = [
    { args: [], says: /give at least one NAME=COMMAND/ },
    { args: ['a=node server.js'], says: /"a=node server.js" is not NAME=COMMAND with \$PORT/ },
    { args: ['=node server.js $PORT'], says: /is not NAME=COMMAND/ },
    { args: ['--rounds', 'many', 'a=x $PORT'], says: /--rounds needs a positive number, got many/ },
    { args: ['--round', '3', 'a=x $PORT'], says: /unknown option --round; known: --rounds, --duration/ },
  ];
  for (const { args, says } of cases) {
    it(`${JSON.stringify(args)}: exit 2 and one line`, () => {
      const result = run(args);
      assert.equal(result.status, 2, result.stderr);
      assert.match(result.stderr, says);
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
      assert.equal(result.stdout, '');
    });
  }

  it('says how to install wrk when it is not on PATH', () => {
    const result = run(['a=node server.js $PORT'], { ...process.env, PATH: '/nonexistent' });
    assert.equal(result.status, 2, result.stderr);
    assert.match(result.stderr, /wrk is not installed \(apt-get install -y wrk\)/);
  });
});
