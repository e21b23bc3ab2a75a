/*
 * HeaderList: arrival order, case-insensitive lookup, repeated fields, and every init form
 * a response may use.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { HeaderList } from '../src/index.js';

describe('HeaderList', { timeout: 5_000 }, () => {
  const list = new HeaderList(['host', 'a.test', 'accept', 'text/html', 'cookie', 'a=1', 'cookie', 'b=2']);

  it('gets the first value case-insensitively, null when absent', () => {
    assert.equal(list.get('Host'), 'a.test');
    assert.equal(list.get('COOKIE'), 'a=1');
    assert.equal(list.get('x-missing'), null);
  });

  it('getAll returns every value in arrival order, [] when absent', () => {
    assert.deepEqual(list.getAll('Cookie'), ['a=1', 'b=2']);
    assert.deepEqual(list.getAll('x-missing'), []);
  });

  it('has, size, raw', () => {
    assert.equal(list.has('ACCEPT'), true);
    assert.equal(list.has('x'), false);
    assert.equal(list.size, 4);
    assert.deepEqual(list.raw, ['host', 'a.test', 'accept', 'text/html', 'cookie', 'a=1', 'cookie', 'b=2']);
  });

  it('iterates [name, value] pairs in arrival order, repeated names kept', () => {
    assert.deepEqual([...list], [['host', 'a.test'], ['accept', 'text/html'], ['cookie', 'a=1'], ['cookie', 'b=2']]);
    assert.deepEqual([...list.entries()], [...list]);
  });

  it('serializes to JSON as pairs', () => {
    assert.equal(JSON.stringify(list), '[["host","a.test"],["accept","text/html"],["cookie","a=1"],["cookie","b=2"]]');
  });

  it('crosses a thread boundary as its raw array', () => {
    const copy = new HeaderList(structuredClone([...list.raw]));
    assert.deepEqual(copy.getAll('cookie'), ['a=1', 'b=2']);
  });

  it('from pairs lower-cases names and keeps order', () => {
    const built = HeaderList.from([['Content-Type', 'text/plain'], ['Set-Cookie', 'a=1'], ['set-cookie', 'b=2']]);
    assert.deepEqual(built.raw, ['content-type', 'text/plain', 'set-cookie', 'a=1', 'set-cookie', 'b=2']);
  });

  it('from a record expands arrays and stringifies numbers', () => {
    const built = HeaderList.from({ 'Content-Length': 5, 'Set-Cookie': ['a=1', 'b=2'] });
    assert.deepEqual([...built], [['content-length', '5'], ['set-cookie', 'a=1'], ['set-cookie', 'b=2']]);
  });

  it('from a HeaderList is that list; from nothing is empty', () => {
    assert.equal(HeaderList.from(list), list);
    assert.equal(HeaderList.from(undefined).size, 0);
    assert.equal(HeaderList.from(null).size, 0);
  });
});
