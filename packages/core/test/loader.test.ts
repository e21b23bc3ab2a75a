/*
 * The app loader: every specifier form, interface detection, lifecycle hooks, cacheBust, and
 * one test per failure, asserting the code AND that the message names what the user must fix.
 */
import { describe, it, after } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import fs from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadApp, createRequest, GatehouseError, SingleEngine, defaultSettings, type GatewayRequest, type LoadOptions, type LoadedApp } from '../src/index.js';
import { detectInterface } from '../src/app/detect.js';
import { parseAppSpec } from '../src/app/spec.js';

const FIXTURES = fileURLToPath(new URL('../../test/fixtures/apps/', import.meta.url));

function load(spec: string, options: LoadOptions = {}, cwd = FIXTURES): Promise<LoadedApp> {
  return loadApp({ kind: 'module', spec, cwd }, options);
}

function request(method = 'GET', target = '/x'): GatewayRequest {
  const [rawPath, query = ''] = target.split('?');
  return createRequest({
    method, target, path: rawPath!, query, httpVersion: '1.1', rawHeaders: ['host', 'test'], scheme: 'http',
    remote: { address: '127.0.0.1', port: 50000 }, server: { address: '127.0.0.1', port: 8000 }, bodyLength: 0,
  }, null, new AbortController().signal);
}

async function rejectsWith(promise: Promise<unknown>, code: string, ...patterns: RegExp[]): Promise<GatehouseError> {
  const error = await promise.then(() => assert.fail(`expected ${code}, but loading succeeded`), (e: unknown) => e);
  assert.ok(error instanceof GatehouseError, `expected a GatehouseError, got ${String(error)}`);
  assert.equal(error.code, code, error.message);
  for (const pattern of patterns) assert.match(error.message, pattern);
  return error;
}

describe('app specifiers', { timeout: 10_000 }, () => {
  it('parses path, path:name, path:a.b and path:factory()', () => {
    assert.deepEqual(parseAppSpec('app.js'), { file: 'app.js', exportPath: ['default'], named: false, factory: false });
    assert.deepEqual(parseAppSpec('src/app.js:api'), { file: 'src/app.js', exportPath: ['api'], named: true, factory: false });
    assert.deepEqual(parseAppSpec('app.js:server.fetch'), { file: 'app.js', exportPath: ['server', 'fetch'], named: true, factory: false });
    assert.deepEqual(parseAppSpec('app.js:create()'), { file: 'app.js', exportPath: ['create'], named: true, factory: true });
  });

  it('keeps a Windows drive letter and colons that are not an export as part of the path', () => {
    assert.equal(parseAppSpec('C:\\srv\\app.js').file, 'C:\\srv\\app.js');
    assert.equal(parseAppSpec('/srv/v1:2/app.js').file, '/srv/v1:2/app.js');
  });

  it('loads the default export of a file, relative to cwd, as a Gateway app', async () => {
    const loaded = await load('gateway-default.js');
    assert.equal(loaded.interface, 'gateway');
    const response = await loaded.app(request('GET', '/hi'));
    assert.equal(response.body, 'default /hi');
  });

  it('accepts an absolute path and a path without its .js extension', async () => {
    assert.equal((await load(path.join(FIXTURES, 'named-app.js'), {}, os.tmpdir())).interface, 'gateway');
    assert.equal((await (await load('gateway-default')).app(request())).body, 'default /x');
  });

  it('falls back to the export named app when there is no default export', async () => {
    const loaded = await load('named-app.js');
    assert.equal((await loaded.app(request())).body, 'named app');
  });

  it('loads path:name', async () => {
    assert.equal((await (await load('named-exports.js:api')).app(request())).body, 'api');
  });

  it('loads path:object.method with this bound to the object', async () => {
    assert.equal((await (await load('dotted.js:server.handle')).app(request('GET', '/p'))).body, 'srv /p');
  });

  it('calls path:factory() and awaits an async factory', async () => {
    const loaded = await load('factory.js:create()');
    assert.equal((await loaded.app(request('POST'))).body, 'made by create for POST');
  });

  it('calls path:object.factory() with this bound', async () => {
    assert.equal((await (await load('factory.js:nested.build()')).app(request())).body, 'built by nested');
  });

  it('loads a directory through its package.json main', async () => {
    assert.equal((await (await load('dir-with-main')).app(request())).body, 'from main');
  });

  it('loads a directory without a manifest through its index.js', async () => {
    assert.equal((await (await load('dir-with-index')).app(request())).body, 'from index');
  });

  it('loads a CommonJS module (module.exports = app)', async () => {
    assert.equal((await (await load('cjs-app.cjs')).app(request('GET', '/c'))).body, 'cjs /c');
  });

  it('loads a CommonJS module compiled from ES module syntax (__esModule, exports.default = app)', async () => {
    const loaded = await load('compiled-esm.cjs');
    assert.equal(loaded.interface, 'gateway');
    assert.equal((await loaded.app(request('GET', '/c'))).body, 'compiled /c');
  });

  it('returns an inline app as it is', async () => {
    const inline: LoadedApp = { app: () => ({ status: 204 }), interface: 'gateway' };
    assert.equal(await loadApp({ kind: 'inline', app: inline }), inline);
  });

  it('wraps the app in the validator when asked', async () => {
    const loaded = await loadApp({ kind: 'inline', app: { app: () => ({ status: 99 }), interface: 'gateway' } }, { validate: true });
    await assert.rejects(Promise.resolve().then(() => loaded.app(request())), { code: 'ERR_APP_CONTRACT' });
  });
});

describe('lifecycle hooks', { timeout: 10_000 }, () => {
  it('returns module-level startup and shutdown exports', async () => {
    const loaded = await load('gateway-default.js');
    (globalThis as { __fixtureHooks?: string[] }).__fixtureHooks = [];
    await loaded.startup!();
    await loaded.shutdown!();
    assert.deepEqual((globalThis as { __fixtureHooks?: string[] }).__fixtureHooks, ['startup', 'shutdown']);
  });

  it('has no hooks when the module exports none', async () => {
    const loaded = await load('named-exports.js:api');
    assert.equal(loaded.startup, undefined);
    assert.equal(loaded.shutdown, undefined);
  });

  it('takes hooks from a default-exported fetch handler object', async () => {
    const loaded = await load('fetch-object.js');
    assert.equal(loaded.interface, 'fetch');
    (globalThis as { __fetchHooks?: string[] }).__fetchHooks = [];
    await loaded.startup!();
    await loaded.shutdown!();
    assert.deepEqual((globalThis as { __fetchHooks?: string[] }).__fetchHooks, ['startup', 'shutdown']);
  });

  it('a startup that throws is reported as ERR_APP_STARTUP_FAILED with the app\'s stack', async () => {
    const loaded = await load('startup-throws.js');
    await assert.rejects(Promise.resolve().then(() => loaded.startup!()), (error: unknown) => {
      assert.ok(error instanceof GatehouseError);
      assert.equal(error.code, 'ERR_APP_STARTUP_FAILED');
      assert.match(error.message, /startup\(\) of .*startup-throws\.js/);
      assert.match(error.message, /Error: cannot reach the database\n\s+at startup \(.*startup-throws\.js:5:9\)/);
      return true;
    });
  });

  it('the single engine does not start when startup() throws, and says why', async () => {
    const engine = new SingleEngine({ settings: { ...defaultSettings(), bind: ['127.0.0.1:0'] }, app: { kind: 'module', spec: 'startup-throws.js', cwd: FIXTURES } });
    await assert.rejects(engine.start(), { code: 'ERR_APP_STARTUP_FAILED', message: /cannot reach the database/ });
    assert.equal(engine.addresses.length, 0, 'no listener was bound');
    await engine.stop({ graceful: false });
  });

  it('refuses a hook that is not a function', async () => {
    await rejectsWith(load('bad-hook.js'), 'ERR_APP_BAD_HOOK', /"startup"/, /a string/);
  });
});

describe('interface detection', { timeout: 10_000 }, () => {
  const where = 'test value';
  it('a function of at most one parameter is a Gateway app', () => {
    assert.equal(detectInterface({ value: () => null, where }, 'auto'), 'gateway');
    assert.equal(detectInterface({ value: (_r: unknown) => null, where }, 'auto'), 'gateway');
  });
  it('a function of two or more parameters is a node:http listener (Express: req, res, next)', () => {
    assert.equal(detectInterface({ value: (_q: unknown, _s: unknown) => null, where }, 'auto'), 'node');
    assert.equal(detectInterface({ value: (_q: unknown, _s: unknown, _n: unknown) => null, where }, 'auto'), 'node');
  });
  it('an object with a fetch method is a fetch handler', () => {
    assert.equal(detectInterface({ value: { fetch() { return null; } }, where }, 'auto'), 'fetch');
  });
  it('a function named by path:x.fetch is a fetch handler', () => {
    assert.equal(detectInterface({ value: (_r: unknown) => null, where, declaredFetch: true }, 'auto'), 'fetch');
  });
  it('--interface overrides the guess, and refuses what it cannot call', () => {
    assert.equal(detectInterface({ value: (_r: unknown) => null, where }, 'node'), 'node');
    assert.equal(detectInterface({ value: (_q: unknown, _s: unknown) => null, where }, 'gateway'), 'gateway');
    assert.equal(detectInterface({ value: (_r: unknown) => null, where }, 'fetch'), 'fetch');
    assert.equal(detectInterface({ value: { fetch() { return null; } }, where }, 'gateway'), null);
  });
  it('a class, a string, null or a plain object is none of them', () => {
    for (const value of [class App {}, 'app', null, undefined, { handle() {} }, 42]) assert.equal(detectInterface({ value, where }, 'auto'), null);
  });
  it('an http.Server or https.Server is a node:http listener; a net.Server or a Koa-like app is not', () => {
    const servers = [http.createServer(), https.createServer()];
    for (const value of servers) {
      assert.equal(detectInterface({ value, where }, 'auto'), 'node');
      assert.equal(detectInterface({ value, where }, 'node'), 'node');
    }
    const koaLike = Object.assign(new EventEmitter(), { listen() {}, callback() {} });
    for (const value of [net.createServer(), koaLike]) assert.equal(detectInterface({ value, where }, 'auto'), null);
  });
  it('an exported server answers through its own request listeners, in order', async () => {
    const loaded = await load('http-server-export.mjs');
    assert.equal(loaded.interface, 'node');
    const response = await loaded.app(request('GET', '/hello'));
    assert.equal(response.status, 200);
    assert.equal((response.headers as { get(name: string): string | null }).get('x-order'), 'first,second');
    assert.equal(response.body, 'GET /hello');
  });
  it('loads an Express-shaped export through the node adapter', async () => {
    assert.equal((await load('express-like.js')).interface, 'node');
  });
  it('loads a fetch handler object through the fetch adapter', async () => {
    assert.equal((await load('fetch-object.js')).interface, 'fetch');
  });
  it('--interface gateway refuses a fetch handler object and says what it wanted', async () => {
    await rejectsWith(load('fetch-object.js', { interface: 'gateway' }), 'ERR_APP_NOT_AN_APP', /--interface gateway wants a function/);
  });
});

describe('loader errors', { timeout: 30_000 }, () => {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), 'gatehouse-loader-'));
  after(() => fs.rmSync(temp, { recursive: true, force: true }));

  it('file not found: ERR_APP_NOT_FOUND with the resolved path and the cwd it was resolved from', async () => {
    await rejectsWith(load('no-such-app.js'), 'ERR_APP_NOT_FOUND', new RegExp(escape(path.join(FIXTURES, 'no-such-app.js'))), new RegExp(`resolved from ${escape(FIXTURES)}`));
  });

  it('file not found: says when the directory itself is missing', async () => {
    await rejectsWith(load('no-such-dir/app.js'), 'ERR_APP_NOT_FOUND', /directory .*no-such-dir does not exist/);
  });

  it('file not found: the hint says how paths are resolved', async () => {
    const error = await rejectsWith(load('no-such-app.js'), 'ERR_APP_NOT_FOUND');
    assert.match(error.hint, /resolved from the current directory/);
    assert.match(error.toLine(), /^ERR_APP_NOT_FOUND: App module not found: .*no-such-app\.js.*Check the path/);
  });

  it('a directory with no entry module says what it looked for', async () => {
    await rejectsWith(load('dir-without-entry'), 'ERR_APP_NOT_FOUND', /no package\.json "main", index\.js or app\.js/);
  });

  it('export missing: lists the exports that do exist', async () => {
    await rejectsWith(load('named-exports.js:nope'), 'ERR_APP_EXPORT_MISSING', /no export named "nope"/, /its exports are: api, makeUndefined, other/);
  });

  it('no default and no app export: says so and lists the exports', async () => {
    await rejectsWith(load('named-exports.js'), 'ERR_APP_EXPORT_MISSING', /no default export and no export named "app"/, /api, makeUndefined, other/);
  });

  it('a module that exports nothing says it exports nothing', async () => {
    await rejectsWith(load('nothing-exported.js'), 'ERR_APP_EXPORT_MISSING', /it exports nothing/);
  });

  it('a missing property in a dotted export names it', async () => {
    await rejectsWith(load('dotted.js:server.fetch'), 'ERR_APP_EXPORT_MISSING', /"server" in .* has no property "fetch"/);
  });

  it('export not an app: a string says it is a string', async () => {
    await rejectsWith(load('string-export.js'), 'ERR_APP_NOT_AN_APP', /default export of .*string-export\.js is a string \("Hello, World!"\)/);
  });

  it('export not an app: a number names its value', async () => {
    await rejectsWith(load('named-exports.js:other'), 'ERR_APP_NOT_AN_APP', /"other" in .* is a number \(42\)/);
  });

  it('export not an app: a class suggests an instance or a factory', async () => {
    await rejectsWith(load('class-export.js'), 'ERR_APP_NOT_AN_APP', /a class \(MyApp\)/, /path:factory\(\)/);
  });

  it('export not an app: a Promise suggests awaiting it', async () => {
    await rejectsWith(load('promise-export.js'), 'ERR_APP_NOT_AN_APP', /a Promise/, /await/);
  });

  it('export not an app: a Koa-shaped object suggests app.callback()', async () => {
    await rejectsWith(load('koa-like.js'), 'ERR_APP_NOT_AN_APP', /properties \[use, listen, callback\]/, /app\.callback\(\)/);
  });

  it('factory threw: ERR_APP_FACTORY_THREW with the app\'s message and stack frame', async () => {
    const error = await rejectsWith(load('factory.js:broken()'), 'ERR_APP_FACTORY_THREW', /broken\(\) in .*factory\.js/, /Error: factory exploded/, /factory\.js:7:9/);
    assert.equal((error.cause as Error).message, 'factory exploded');
    assert.doesNotMatch(error.message, /app\/loader\.js/, 'the loader\'s own frames are not the app\'s stack');
  });

  it('factory threw: the stack survives serialization across threads and processes', async () => {
    const error = await rejectsWith(load('factory.js:broken()'), 'ERR_APP_FACTORY_THREW');
    const copy = GatehouseError.fromJSON(structuredClone(error.toJSON()));
    assert.match(copy.message, /factory exploded[\s\S]*factory\.js:7/);
  });

  it('a factory that returns nothing is not an app', async () => {
    await rejectsWith(load('named-exports.js:makeUndefined()'), 'ERR_APP_NOT_AN_APP', /result of makeUndefined\(\) .* is undefined/);
  });

  it('calling something that is not a function says so', async () => {
    await rejectsWith(load('named-exports.js:other()'), 'ERR_APP_NOT_AN_APP', /a number \(42\), which cannot be called/);
  });

  it('syntax error in the app: ERR_APP_SYNTAX with file:line and the offending line', async () => {
    await rejectsWith(load('syntax-error.js'), 'ERR_APP_SYNTAX', new RegExp(`${escape(path.join(FIXTURES, 'syntax-error.js'))}:3`), /status: 200,,/, /SyntaxError: Unexpected token ','/);
  });

  it('syntax error in a module the app imports: names that module and line', async () => {
    await rejectsWith(load('syntax-in-dep.js'), 'ERR_APP_SYNTAX', /lib\/broken-dep\.js:4/);
  });

  it('syntax error in a CommonJS app: file:line', async () => {
    await rejectsWith(load('cjs-syntax.cjs'), 'ERR_APP_SYNTAX', /cjs-syntax\.cjs:2/);
  });

  it('throwing at import: ERR_APP_IMPORT_FAILED with the app\'s stack', async () => {
    const error = await rejectsWith(load('import-throws.js'), 'ERR_APP_IMPORT_FAILED', /Error: database unreachable/, /import-throws\.js:3:9/, /import-throws\.js:5/);
    assert.doesNotMatch(error.message, /node:internal/);
  });

  it('a missing package imported by the app is an import failure naming the package', async () => {
    await rejectsWith(load('missing-dependency.js'), 'ERR_APP_IMPORT_FAILED', /gatehouse-no-such-package/);
  });

  it('a TypeScript file: ERR_APP_TYPESCRIPT telling to compile it or use a loader', async () => {
    const file = path.join(temp, 'app.ts');
    fs.writeFileSync(file, 'const app = (request: unknown) => ({ status: 200 });\nexport default app;\n');
    const error = await rejectsWith(load(file), 'ERR_APP_TYPESCRIPT', new RegExp(escape(file)));
    assert.match(error.hint, /tsc/);
    assert.match(error.hint, /NODE_OPTIONS="--import tsx"/);
  });
});

describe('cacheBust', { timeout: 10_000 }, () => {
  type Counters = { __counterLoads?: number; __counterCjsLoads?: number };
  it('without it the module is imported once; with it the entry is evaluated afresh (ESM)', async () => {
    const first = Number((await (await load('counter.js')).app(request())).body);
    const again = Number((await (await load('counter.js')).app(request())).body);
    assert.equal(again, first);
    const fresh = Number((await (await load('counter.js', { cacheBust: 'reload-1' })).app(request())).body);
    assert.equal(fresh, first + 1);
    assert.equal((globalThis as Counters).__counterLoads, first + 1);
  });

  it('reloads a CommonJS entry too', async () => {
    const first = Number((await (await load('counter.cjs')).app(request())).body);
    const fresh = Number((await (await load('counter.cjs', { cacheBust: 'reload-2' })).app(request())).body);
    assert.equal(fresh, first + 1);
  });
});

function escape(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}
