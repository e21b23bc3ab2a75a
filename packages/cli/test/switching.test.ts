/*
 * docs/switching.md (the PM2, node:cluster and Gunicorn guides) names real things: every
 * Gatehouse flag it names is one `serve --help` lists, and each config file it marks as tested
 * passes `serve --check-config` beside an app.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { HELLO_APP, REPO, runServe, tempDir } from './kit/index.js';

const GUIDE = fs.readFileSync(path.join(REPO, 'docs/switching.md'), 'utf8');

/**
 * The Gatehouse flags the guide names: in `serve ...` command lines, in the Gatehouse column of
 * its tables, and in code spans that start with a flag. PM2's and Gunicorn's own options stay in
 * their own column or after their own command, where they are not ours to check.
 */
function gatehouseFlags(text: string): Set<string> {
  const flags = new Set<string>();
  const take = (snippet: string) => { for (const m of snippet.matchAll(/(?<![\w-])--[a-z][a-z-]*/g)) flags.add(m[0]); };
  for (const line of text.split('\n')) {
    if (/^\|/.test(line)) take(line.split('|')[2] ?? '');
    for (const m of line.matchAll(/`([^`]*)`/g)) if (/^(serve |--)/.test(m[1]!)) take(m[1]!);
    if (/^serve( |$)/.test(line)) take(line.replace(/#.*/, ''));
  }
  return flags;
}

describe('docs/switching.md', () => {
  it('names only flags that serve --help lists', async () => {
    const help = await runServe(['--help']);
    assert.equal(help.code, 0);
    const known = new Set(help.stdout.match(/--[a-z][a-z-]*/g));
    const named = gatehouseFlags(GUIDE);
    assert.ok(named.size >= 30, `the guide's tables name the flags (found ${[...named].join(' ')})`);
    const unknown = [...named].filter((flag) => !known.has(flag) && !known.has(flag.replace(/^--no-/, '--')));
    assert.deepEqual(unknown, [], 'flags in docs/switching.md that serve does not have');
  });

  it('its config files pass serve --check-config', async () => {
    const blocks = [...GUIDE.matchAll(/<!-- tested: (\S+) -->\n```\w*\n([\s\S]*?)```/g)];
    assert.ok(blocks.length >= 1, 'the guide marks its config example as tested');
    for (const [, name, text] of blocks) {
      const dir = tempDir({ [name!]: text!, 'app.js': HELLO_APP, 'package.json': '{"type":"module"}' });
      fs.mkdirSync(path.join(dir, 'logs'));
      const result = await runServe(['--check-config'], { cwd: dir });
      assert.equal(result.code, 0, `${name}: ${result.stderr}`);
      assert.match(result.stdout, new RegExp(`^ok: .*config file ${path.join(dir, name!).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
    }
  });
});
