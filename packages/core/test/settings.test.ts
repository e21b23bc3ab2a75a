/*
 * The settings table's rules in isolation: spellings, conversion of each kind, errors that name
 * the source, layering, config-file hooks for child processes, and the JSON-safe copy.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { SETTINGS, defaultSettings } from '../src/index.js';
import {
  entriesFromEnv, entriesFromObject, envName, flagName, loadConfigHooks,
  nearest, resolveSettings, serializableSettings, snakeName, readConfigFile, entriesFromConfigFile,
} from '../src/internal.js';
import { camelName } from '../src/settings/names.js';
import { coerceSetting } from '../src/settings/parse.js';

describe('setting names', () => {
  it('derives flag, snake_case and env spellings, and reads any of them back', () => {
    assert.equal(flagName('maxRequestsJitter'), 'max-requests-jitter');
    assert.equal(snakeName('maxRequestsJitter'), 'max_requests_jitter');
    assert.equal(envName('maxRequestsJitter'), 'GATEHOUSE_MAX_REQUESTS_JITTER');
    for (const key of ['max-requests-jitter', 'max_requests_jitter', 'maxRequestsJitter', 'MAX_REQUESTS_JITTER']) assert.equal(camelName(key), 'maxRequestsJitter');
    assert.equal(camelName('on_starting'), 'onStarting');
  });

  it('every setting has a one-line doc and a group; hooks have no flag', () => {
    for (const [name, spec] of Object.entries(SETTINGS)) {
      assert.ok(spec.doc.length > 10 && !spec.doc.includes('\n'), `${name} has a one-line doc`);
      if (spec.kind === 'hook') assert.equal(spec.cli, false, `${name} is config-file only`);
    }
  });

  it('suggests a near name and nothing for a far one', () => {
    assert.equal(nearest('wokers', ['workers', 'threads']), 'workers');
    assert.equal(nearest('zzzzzz', ['workers', 'threads']), undefined);
  });
});

describe('coerceSetting', () => {
  const cli = { kind: 'cli', flag: '--x' } as const;
  it('converts text by kind', () => {
    assert.equal(coerceSetting('workers', '4', cli), 4);
    assert.equal(coerceSetting('keepAlive', '.5', cli), 0.5);
    assert.equal(coerceSetting('maxWorkerMemory', '512m', cli), 512 * 1024 * 1024);
    assert.equal(coerceSetting('maxBodySize', '1GiB', cli), 1024 ** 3);
    assert.equal(coerceSetting('reload', 'off', cli), false);
    assert.deepEqual(coerceSetting('bind', '127.0.0.1:1, unix:/tmp/s', cli), ['127.0.0.1:1', 'unix:/tmp/s']);
    assert.equal(coerceSetting('logLevel', 'debug', cli), 'debug');
  });

  it('rejects with the setting, the value, what is allowed and the source', () => {
    const cases: Array<[Parameters<typeof coerceSetting>[0], unknown, Parameters<typeof coerceSetting>[2], RegExp]> = [
      ['workers', '1.5', { kind: 'env', variable: 'GATEHOUSE_WORKERS' }, /^Invalid setting: workers = "1\.5" from env GATEHOUSE_WORKERS: expected a whole number >= 1, or auto \(one per usable CPU\)$/],
      ['maxWorkerMemory', '12 parsecs', { kind: 'file', path: '/etc/g.json', key: 'max_worker_memory' }, /maxWorkerMemory = "12 parsecs" from config file \/etc\/g\.json \(key max_worker_memory\): expected a whole number of bytes/],
      ['debug', 'maybe', { kind: 'cli', flag: '--debug', via: 'GATEHOUSE_CMD_ARGS' }, /from flag --debug in GATEHOUSE_CMD_ARGS: expected true or false/],
      ['onStarting', 'echo', { kind: 'option', key: 'on_starting' }, /from createServer option on_starting: expected a function/],
      ['metricsBind', 'unix:/tmp/m', cli, /metricsBind = "unix:\/tmp\/m" .*expected a TCP HOST:PORT/],
      ['umask', '999', cli, /expected an octal umask/],
    ];
    for (const [name, raw, source, expected] of cases) {
      assert.throws(() => coerceSetting(name, raw, source), (error: Error & { code?: string }) => {
        assert.equal(error.code, 'ERR_SETTING_INVALID');
        assert.match(error.message, expected);
        return true;
      });
    }
  });
});

describe('resolveSettings', () => {
  it('later layers win and each value remembers its source', () => {
    const file = entriesFromObject({ workers: 2, max_requests: 10 }, (key) => ({ kind: 'file', path: '/c.json', key }), 'config file /c.json');
    const env = entriesFromEnv({ GATEHOUSE_WORKERS: '3', GATEHOUSE_TIMEOUT: '', UNRELATED: 'x' });
    const { settings, sources } = resolveSettings(file, env, [{ name: 'workers', raw: '4', source: { kind: 'cli', flag: '--workers' } }]);
    assert.equal(settings.workers, 4);
    assert.equal(settings.maxRequests, 10);
    assert.equal(settings.timeout, defaultSettings().timeout, 'an empty variable counts as unset');
    assert.deepEqual(sources.workers, { kind: 'cli', flag: '--workers' });
    assert.deepEqual(sources.maxRequests, { kind: 'file', path: '/c.json', key: 'max_requests' });
    assert.deepEqual(sources.timeout, { kind: 'default' });
  });

  it('rejects an unknown key with the nearest name', () => {
    assert.throws(() => entriesFromObject({ 'graceful-timout': 3 }, (key) => ({ kind: 'option', key }), 'createServer options'), /"graceful-timout" in createServer options \(did you mean gracefulTimeout\?\)/);
  });
});

describe('config-file hooks for child processes', () => {
  it('loadConfigHooks returns the hook functions; serializableSettings drops them for JSON', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-settings-'));
    const file = path.join(dir, 'gatehouse.config.mjs');
    fs.writeFileSync(file, 'export const workers = 2;\nexport function post_fork(worker) { return "forked " + worker; }\nexport default { preRequest: () => "pre" };\n');
    const hooks = await loadConfigHooks(file);
    assert.deepEqual(Object.keys(hooks).sort(), ['postFork', 'preRequest']);
    assert.equal(hooks.postFork!(7), 'forked 7');

    const { settings } = resolveSettings(entriesFromConfigFile(file, await readConfigFile(file)));
    assert.equal(settings.workers, 2);
    assert.equal(typeof settings.postFork, 'function');
    const copy = serializableSettings(settings);
    assert.equal(copy.postFork, null);
    assert.deepEqual(JSON.parse(JSON.stringify(copy)), copy, 'survives JSON');
    assert.equal(typeof settings.postFork, 'function', 'the original keeps its hooks');
    assert.deepEqual(await loadConfigHooks(undefined), {});
  });
});
