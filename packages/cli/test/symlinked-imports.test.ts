/*
 * A prefork worker, with its stack helper thread and pipe (the default), still resolves a
 * package the app imports lazily, after boot, through a pnpm-style symlink: node_modules/a links
 * to .pnpm/a@1/node_modules/a, whose index.js imports its sibling b, which only a resolver that
 * follows the link finds. A synchronous number stat of the worker's pipe breaks exactly that
 * (see "Synchronous stats" in docs/engines.md).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { ServeProcess, tempDir } from './kit/index.js';

const LAZY_APP = `export default async function app() {
  const { b } = await import('a');
  return { status: 200, body: b };
}
`;

function pnpmLayout(dir: string): void {
  const files: Record<string, string> = {
    'a/package.json': '{"name":"a","type":"module","exports":"./index.js"}',
    'a/index.js': 'export { b } from "b";',
    'b/package.json': '{"name":"b","type":"module","exports":"./index.js"}',
    'b/index.js': 'export const b = "b from the store";',
  };
  for (const [name, text] of Object.entries(files)) {
    const file = path.join(dir, 'node_modules/.pnpm/a@1/node_modules', name);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
  }
  fs.symlinkSync('.pnpm/a@1/node_modules/a', path.join(dir, 'node_modules/a'));
}

describe('a package imported after boot through a pnpm symlink', { timeout: 60_000 }, () => {
  it('resolves in a prefork worker that runs the stack helper', async (t) => {
    const dir = tempDir({ 'app.js': LAZY_APP });
    pnpmLayout(dir);
    const serve = new ServeProcess(['app.js', '--engine', 'prefork', '--workers', '1', '--bind', '127.0.0.1:0'], { cwd: dir });
    t.after(() => serve.dispose());
    const response = await fetch(`${await serve.url}/`, { headers: { connection: 'close' } });
    assert.equal(await response.text(), 'b from the store', serve.stderr);
    assert.equal(response.status, 200);
  });
});
