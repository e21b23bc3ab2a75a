/*
 * Which module loaders an app thread repeats: the --import/--loader entries of NODE_OPTIONS
 * (split as Node splits it) and of execArgv, in the order Node applies them. That they take
 * effect in a real thread is tested through the serve bin (cli typescript.test).
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { nodeLoaders, processLoaders, splitNodeOptions } from '../src/app/thread-loaders.js';

describe('module loaders named by node flags', () => {
  it('splits NODE_OPTIONS on spaces, with double quotes grouping and backslash escapes inside them', () => {
    assert.deepEqual(splitNodeOptions(undefined), []);
    assert.deepEqual(splitNodeOptions('  --import tsx   --max-old-space-size=512 '), ['--import', 'tsx', '--max-old-space-size=512']);
    assert.deepEqual(splitNodeOptions('--import "./my loader.mjs" --require=""'), ['--import', './my loader.mjs', '--require=']);
    assert.deepEqual(splitNodeOptions('--import "a\\"b"'), ['--import', 'a"b']);
  });

  it('finds --import, --loader and --experimental-loader, as "--flag X" and "--flag=X", and nothing else', () => {
    assert.deepEqual(nodeLoaders(['--import', 'tsx', '--require', 'dotenv/config', '--loader=./l.mjs', '--experimental-loader', 'x', '--import=y', '--inspect']), [
      { kind: 'import', specifier: 'tsx' },
      { kind: 'loader', specifier: './l.mjs' },
      { kind: 'loader', specifier: 'x' },
      { kind: 'import', specifier: 'y' },
    ]);
    assert.deepEqual(nodeLoaders(['--import']), []);
  });

  it('takes NODE_OPTIONS before the command line, as Node applies them', () => {
    assert.deepEqual(processLoaders(['--import', 'b'], { NODE_OPTIONS: '--import a' }).map((l) => l.specifier), ['a', 'b']);
  });
});
