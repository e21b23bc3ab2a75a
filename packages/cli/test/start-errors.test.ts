/*
 * What an operator sees when the app cannot start, under every engine: one error line on
 * stderr naming the app's own error and the file:line it was thrown from, and a non-zero
 * exit. Workers and threads that could not boot are not each reported again.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { runServe, tempDir } from './kit/index.js';

const THROWS_DEEP = `function deep() { throw new Error('deep failure'); }
function outer() { deep(); }
outer();
export default () => ({ status: 200, body: 'never' });
`;

/** stderr lines that report a problem: plain lines, and JSON records at warn level or above. */
export function problemLines(stderr: string): string[] {
  return stderr.split('\n').filter(Boolean).filter((line) => {
    try { return (JSON.parse(line) as { level: number }).level >= 40; } catch { return true; }
  });
}

describe('an app that throws at import: one line with its error and file:line, every engine', { timeout: 120_000 }, () => {
  const dir = tempDir({ 'app.mjs': THROWS_DEEP });
  for (const engine of ['single', 'prefork', 'threaded', 'hybrid']) {
    it(engine, async () => {
      const result = await runServe(['app.mjs', '--engine', engine, '--workers', '2', '--threads', '2', '--bind', '127.0.0.1:0'], {
        cwd: dir, env: { GATEHOUSE_LOG_FORMAT: 'json' }, timeoutMs: 30_000,
      });
      assert.notEqual(result.code, 0);
      const lines = problemLines(result.stderr);
      assert.equal(lines.length, 1, `expected one error line, got:\n${result.stderr}`);
      assert.match(lines[0]!, /^serve: ERR_APP_IMPORT_FAILED: .*app\.mjs.*Error: deep failure at deep \(.*app\.mjs:1:\d+\)/);
    });
  }
});
