/*
 * From a RequestHead to the app's request: target splitting and percent-decoding (the rules
 * docs/gateway-interface.md states), and createRequest's fields.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createRequest, bufferedBodySource, HeaderList, RequestBody, type RequestHead } from '../src/index.js';
import { splitTarget, percentDecode } from '../src/gateway/request.js';

describe('splitTarget', { timeout: 5_000 }, () => {
  it('splits origin-form into decoded path and raw query', () => {
    assert.deepEqual(splitTarget('/a%20b/c?x=%20y&z'), { path: '/a b/c', query: 'x=%20y&z' });
  });
  it('has an empty query without "?" and with a bare "?"', () => {
    assert.deepEqual(splitTarget('/p'), { path: '/p', query: '' });
    assert.deepEqual(splitTarget('/p?'), { path: '/p', query: '' });
  });
  it('keeps everything after the first "?" as the query, "?" included', () => {
    assert.deepEqual(splitTarget('/p?a=1?b=2'), { path: '/p', query: 'a=1?b=2' });
  });
  it('does not decode "+" in the path (it is not a space outside forms)', () => {
    assert.equal(splitTarget('/a+b').path, '/a+b');
  });
  it('absolute-form: drops scheme and authority', () => {
    assert.deepEqual(splitTarget('http://example.test:8080/x%2Fy?q=1'), { path: '/x/y', query: 'q=1' });
    assert.deepEqual(splitTarget('http://example.test'), { path: '/', query: '' });
    assert.deepEqual(splitTarget('http://example.test?q=1'), { path: '/', query: 'q=1' });
  });
  it('authority-form (CONNECT) has an empty path; asterisk-form is "*"', () => {
    assert.deepEqual(splitTarget('example.test:443'), { path: '', query: '' });
    assert.deepEqual(splitTarget('*'), { path: '*', query: '' });
  });
});

describe('percentDecode', { timeout: 5_000 }, () => {
  it('decodes UTF-8 escapes', () => {
    assert.equal(percentDecode('/caf%C3%A9'), '/café');
  });
  it('decodes %2F to "/" and %25 to "%" (once: %2525 stays %25)', () => {
    assert.equal(percentDecode('/a%2Fb'), '/a/b');
    assert.equal(percentDecode('/100%25'), '/100%');
    assert.equal(percentDecode('/%2525'), '/%25');
  });
  it('decodes a run that is not valid UTF-8 byte by byte (latin1)', () => {
    assert.equal(percentDecode('/%E9t%E9'), '/été');
    assert.equal(percentDecode('/%C3'), '/\u00c3');
  });
  it('decodes each run on its own: one bad run does not change the others', () => {
    assert.equal(percentDecode('/caf%C3%A9/%FF'), '/café/\u00ff');
  });
  it('leaves a "%" without two hex digits as it is', () => {
    assert.equal(percentDecode('/50%'), '/50%');
    assert.equal(percentDecode('/%zz/%4'), '/%zz/%4');
    assert.equal(percentDecode('/%zz%41'), '/%zzA');
  });
  it('decodes %00 (apps that touch the file system must refuse NUL and "..")', () => {
    assert.equal(percentDecode('/a%00b'), '/a\0b');
    assert.equal(percentDecode('/%2E%2E/etc'), '/../etc');
  });
});

describe('createRequest', { timeout: 5_000 }, () => {
  const head: RequestHead = {
    method: 'POST', target: '/p?q', path: '/p', query: 'q', httpVersion: '1.0', rawHeaders: ['x-a', '1', 'x-a', '2'],
    scheme: 'https', remote: { address: '::1', port: 4000 }, server: { address: '::1', port: 443 }, bodyLength: 3,
  };
  it('carries every field of the head, a HeaderList, a RequestBody and the signal', async () => {
    const controller = new AbortController();
    const request = createRequest(head, bufferedBodySource('abc'), controller.signal);
    assert.equal(request.method, 'POST');
    assert.equal(request.target, '/p?q');
    assert.equal(request.path, '/p');
    assert.equal(request.query, 'q');
    assert.equal(request.httpVersion, '1.0');
    assert.equal(request.scheme, 'https');
    assert.deepEqual(request.remote, { address: '::1', port: 4000 });
    assert.deepEqual(request.server, { address: '::1', port: 443 });
    assert.ok(request.headers instanceof HeaderList);
    assert.deepEqual(request.headers.getAll('X-A'), ['1', '2']);
    assert.ok(request.body instanceof RequestBody);
    assert.equal(request.body.length, 3);
    assert.equal(await request.body.text(), 'abc');
    assert.equal(request.signal, controller.signal);
  });
  it('a request without a body reads as empty with length 0', async () => {
    const request = createRequest({ ...head, bodyLength: 0 }, null, new AbortController().signal);
    assert.equal(request.body.length, 0);
    assert.equal(await request.body.text(), '');
  });
  it('the head is plain data: it survives structuredClone (the thread boundary)', () => {
    const copy = createRequest(structuredClone(head), null, new AbortController().signal);
    assert.deepEqual(copy.headers.getAll('x-a'), ['1', '2']);
  });
});
