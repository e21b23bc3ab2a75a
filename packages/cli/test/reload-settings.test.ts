/*
 * What a reload keeps of a re-read config: settings the table marks `restart` keep their
 * running value and are named in one line; the rest, hooks included, are the new config's.
 */
import { it } from 'node:test';
import assert from 'node:assert/strict';
import { defaultSettings, type Settings } from '@gatehouse/core';
import { settingsForReload } from '../src/reload-settings.js';

const running: Settings = { ...defaultSettings(), bind: ['127.0.0.1:8000'], workers: 2, user: '' };

it('an unchanged config (equal lists, new hook functions) needs no warning', () => {
  const { settings, warning } = settingsForReload(running, { ...running, bind: ['127.0.0.1:8000'], onReload: () => {} });
  assert.equal(warning, null);
  assert.equal(typeof settings.onReload, 'function');
});

it('restart-only settings keep their running value, named in one line; the rest apply', () => {
  const { settings, warning } = settingsForReload(running, { ...running, bind: ['127.0.0.1:9000'], user: 'nobody', workers: 4, logLevel: 'warn' });
  assert.deepEqual(settings.bind, ['127.0.0.1:8000']);
  assert.equal(settings.user, '');
  assert.equal(settings.workers, 4);
  assert.equal(settings.logLevel, 'warn');
  assert.equal(warning, 'reload: --bind (127.0.0.1:9000; running with 127.0.0.1:8000), --user (nobody; running with "") cannot change without a restart; kept the running values, the rest of the new config applies');
});
