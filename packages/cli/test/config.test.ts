/*
 * Settings as an operator meets them, through the real `serve` bin: precedence seen through
 * --print-config, every error path (one line, exit code, the source named), --check-config,
 * --help, and docs/configuration.md held to the table.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { HELLO_APP, REPO, ServeProcess, runServe, tempDir } from './kit/index.js';
import { renderConfigurationDoc, REGENERATE_COMMAND } from '../src/config-docs.js';

/** --print-config lines as { name: [value, where] }. */
function parsePrintConfig(stdout: string): Record<string, [string, string]> {
  const out: Record<string, [string, string]> = {};
  for (const line of stdout.split('\n')) {
    const match = /^(\w+)\s+= (.*?)  # (.*)$/.exec(line);
    if (match) out[match[1]!] = [match[2]!, match[3]!];
  }
  return out;
}

/** A single stderr line: the error path's contract. */
function oneLine(stderr: string): string {
  const lines = stderr.split('\n').filter(Boolean);
  assert.equal(lines.length, 1, `expected exactly one line on stderr, got:\n${stderr}`);
  return lines[0]!;
}

describe('precedence: defaults < config file < env < command line', { timeout: 60_000 }, () => {
  const dir = tempDir({
    'app.js': HELLO_APP,
    // three spellings of keys in one file
    'gatehouse.config.json': JSON.stringify({ workers: 2, 'max-requests': 100, graceful_timeout: 7, keepAlive: 3, threads: 6, backlog: 99 }),
  });

  it('each layer overrides the one below and --print-config names it', async () => {
    const result = await runServe(['--print-config', 'app.js', '--threads', '8', '-w', '5'], {
      cwd: dir,
      env: { GATEHOUSE_THREADS: '7', GATEHOUSE_MAX_REQUESTS: '200', GATEHOUSE_BACKLOG: '50', GATEHOUSE_CMD_ARGS: '--backlog 60 --log-level debug' },
    });
    assert.equal(result.code, 0, result.stderr);
    const config = parsePrintConfig(result.stdout);
    const file = path.join(dir, 'gatehouse.config.json');
    assert.deepEqual(config.workers, ['5', 'cli: --workers']);
    assert.deepEqual(config.threads, ['8', 'cli: --threads']);
    assert.deepEqual(config.maxRequests, ['200', 'env: GATEHOUSE_MAX_REQUESTS']);
    assert.deepEqual(config.backlog, ['60', 'env: --backlog in GATEHOUSE_CMD_ARGS']);
    assert.deepEqual(config.logLevel, ['debug', 'env: --log-level in GATEHOUSE_CMD_ARGS']);
    assert.deepEqual(config.gracefulTimeout, ['7', `file: ${file} (key graceful_timeout)`]);
    assert.deepEqual(config.keepAlive, ['3', `file: ${file} (key keepAlive)`]);
    assert.deepEqual(config.timeout, ['30', 'default']);
    assert.deepEqual(config.app, ['app.js', 'cli: APP']);
    assert.equal(config.config![0], file);
  });

  it('--config FILE replaces discovery, and GATEHOUSE_CONFIG names it too', async () => {
    fs.writeFileSync(path.join(dir, 'other.json'), JSON.stringify({ workers: 9 }));
    const viaFlag = parsePrintConfig((await runServe(['--print-config', '--config', 'other.json', 'app.js'], { cwd: dir })).stdout);
    assert.equal(viaFlag.workers![0], '9');
    assert.equal(viaFlag.maxRequests![0], '0', 'the discovered file is not read when --config names another');
    const viaEnv = parsePrintConfig((await runServe(['--print-config', 'app.js'], { cwd: dir, env: { GATEHOUSE_CONFIG: 'other.json' } })).stdout);
    assert.equal(viaEnv.workers![0], '9');
  });

  it('list settings: repeated flags, comma-separated env; booleans and byte sizes from text', async () => {
    const result = await runServe(['--print-config', 'app.js', '-b', '127.0.0.1:1', '--bind', 'unix:/tmp/x.sock', '--no-proxy-headers', '--max-body-size', '2m'], {
      cwd: dir, env: { GATEHOUSE_FORWARDED_ALLOW_IPS: '10.0.0.1, 10.0.0.2', GATEHOUSE_RELOAD: 'yes' },
    });
    const config = parsePrintConfig(result.stdout);
    assert.equal(config.bind![0], '127.0.0.1:1,unix:/tmp/x.sock');
    assert.equal(config.forwardedAllowIps![0], '10.0.0.1,10.0.0.2');
    assert.equal(config.proxyHeaders![0], 'false');
    assert.equal(config.reload![0], 'true');
    assert.equal(config.maxBodySize![0], String(2 * 1024 * 1024));
  });

  it('a JS config exports settings and snake_case hooks; --print-config shows the hook', async () => {
    const jsDir = tempDir({ 'app.js': HELLO_APP, 'gatehouse.config.mjs': 'export default { workers: 3 };\nexport const max_queue = 12;\nexport function on_starting() {}\n' });
    const config = parsePrintConfig((await runServe(['--print-config', 'app.js'], { cwd: jsDir })).stdout);
    assert.equal(config.workers![0], '3');
    assert.equal(config.maxQueue![0], '12');
    assert.match(config.onStarting![0], /function on_starting/);
  });
});

describe('a wrong value: one line naming setting, value, what is allowed and the source; exit 2', { timeout: 60_000 }, () => {
  const dir = tempDir({ 'app.js': HELLO_APP, 'bad.json': JSON.stringify({ workers: 'many' }), 'bad-hook.json': JSON.stringify({ on_starting: 'echo hi' }) });

  const cases: Array<[string, string[], Record<string, string>, RegExp]> = [
    ['flag', ['app.js', '--workers', '0'], {}, /workers = "0" from flag --workers: expected a whole number >= 1/],
    ['env', ['app.js'], { GATEHOUSE_KEEP_ALIVE: 'soon' }, /keepAlive = "soon" from env GATEHOUSE_KEEP_ALIVE: expected a number of seconds/],
    ['GATEHOUSE_CMD_ARGS', ['app.js'], { GATEHOUSE_CMD_ARGS: '--log-level loud' }, /logLevel = "loud" from flag --log-level in GATEHOUSE_CMD_ARGS: expected one of trace, debug, info/],
    ['config file', ['app.js', '--config', 'bad.json'], {}, /workers = "many" from config file .*bad\.json \(key workers\): expected a whole number/],
    ['hook in JSON', ['app.js', '--config', 'bad-hook.json'], {}, /onStarting = "echo hi" from config file .*bad-hook\.json \(key on_starting\): expected a function/],
    ['bind', ['app.js', '--bind', '127.0.0.1:http'], {}, /bind = \["127\.0\.0\.1:http"\] from flag --bind: expected HOST:PORT/],
    ['access log format', ['app.js', '--access-log-format', '%(h)s %(nope)s'], {}, /accessLogFormat = .* unknown atom %\(nope\)s/],
    ['choice', ['app.js', '--engine', 'single', '--log-format', 'xml'], {}, /logFormat = "xml" from flag --log-format: expected one of auto, json, pretty/],
  ];
  for (const [label, args, env, expected] of cases) {
    it(`from ${label}`, async () => {
      const result = await runServe(args, { cwd: dir, env });
      assert.equal(result.code, 2, result.stderr);
      const line = oneLine(result.stderr);
      assert.match(line, /^serve: ERR_SETTING_INVALID: /);
      assert.match(line, expected);
    });
  }

  it('an unknown flag suggests the nearest one', async () => {
    const result = await runServe(['app.js', '--wokers', '4'], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /ERR_SETTING_UNKNOWN: .*flag --wokers \(did you mean --workers\?\)/);
    const far = await runServe(['app.js', '--gracefull-timeout', '4'], { cwd: dir });
    assert.match(oneLine(far.stderr), /did you mean --graceful-timeout\?/);
  });

  it('a flag that needs a value and has none is one line naming the flag (its alias too)', async () => {
    for (const [args, flag] of [[['app.js', '--bind'], '--bind'], [['app.js', '-w', '--engine', 'single'], '--workers']] as const) {
      const result = await runServe([...args], { cwd: dir });
      assert.equal(result.code, 2);
      assert.match(result.stderr, new RegExp(`^serve: ERR_SETTING_INVALID: .*flag ${flag} needs a value`));
      assert.equal(result.stderr.trim().split('\n').length, 1, result.stderr);
    }
    const cmdArgs = await runServe(['app.js'], { cwd: dir, env: { GATEHOUSE_CMD_ARGS: '--timeout' } });
    assert.match(oneLine(cmdArgs.stderr), /flag --timeout in GATEHOUSE_CMD_ARGS needs a value/);
  });

  it('an unknown flag inside GATEHOUSE_CMD_ARGS says so', async () => {
    const result = await runServe(['app.js'], { cwd: dir, env: { GATEHOUSE_CMD_ARGS: '--max-request 5' } });
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /flag --max-request in GATEHOUSE_CMD_ARGS \(did you mean --max-requests\?\)/);
  });

  it('an unknown config-file key suggests the nearest setting', async () => {
    const keyDir = tempDir({ 'app.js': HELLO_APP, 'gatehouse.config.json': JSON.stringify({ max_request: 5 }) });
    const result = await runServe(['app.js'], { cwd: keyDir });
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /ERR_SETTING_UNKNOWN: .*"max_request" in config file .*gatehouse\.config\.json \(did you mean maxRequests\?\)/);
  });

  it('a config file that does not load names the file', async () => {
    const brokenDir = tempDir({ 'app.js': HELLO_APP, 'gatehouse.config.mjs': 'export const workers = ;\n' });
    const result = await runServe(['app.js'], { cwd: brokenDir });
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /ERR_CONFIG_FILE: .*gatehouse\.config\.mjs:1 near `export const workers = ;`: SyntaxError/);
    const missing = await runServe(['app.js', '--config', 'nope.json'], { cwd: dir });
    assert.match(oneLine(missing.stderr), /ERR_CONFIG_FILE: .*nope\.json: no such file/);
  });

  for (const [label, file, text, where] of [
    ['an ES module config', 'gatehouse.config.mjs', 'export const workers = 2;\nexport const threads = ;\n', /gatehouse\.config\.mjs:2 near `export const threads = ;`: SyntaxError: Unexpected token/],
    ['a CommonJS config', 'gatehouse.config.js', 'module.exports = {\n  workers: 2,\n  threads: 3 4,\n};\n', /gatehouse\.config\.js:3 near `threads: 3 4,`: SyntaxError: /],
    ['a JSON config (missing comma: V8 gives a position)', 'gatehouse.config.json', '{\n  "workers": 2\n  "threads": 3\n}\n', /gatehouse\.config\.json:3 near `"threads": 3`: Expected ',' or '}' after property value/],
    ['a JSON config (bad literal: V8 gives no position)', 'gatehouse.config.json', '{\n  "workers": 2,\n  "threads": tru\n}\n', /gatehouse\.config\.json:3 near `"threads": tru`: Unexpected token '\\n', .*is not valid JSON\. Fix/],
  ] as const) {
    it(`a syntax error in ${label} is reported with file:line and the line`, async () => {
      const brokenDir = tempDir({ 'app.js': HELLO_APP, [file]: text });
      const result = await runServe(['app.js'], { cwd: brokenDir });
      assert.equal(result.code, 2);
      assert.match(oneLine(result.stderr), where);
    });
  }

  it('a GATEHOUSE_* variable that names no setting is warned about, with the nearest name', async () => {
    const result = await runServe(['--check-config', 'app.js', '--engine', 'single'], { cwd: dir, env: { GATEHOUSE_WOKERS: '3' } });
    assert.equal(result.code, 0, result.stderr);
    assert.match(oneLine(result.stderr), /^serve: warning: GATEHOUSE_WOKERS is not a Gatehouse setting and is ignored \(did you mean GATEHOUSE_WORKERS\?\)/);
    const serve = new ServeProcess(['app.js', '--engine', 'single', '--bind', '127.0.0.1:0'], { cwd: dir, env: { GATEHOUSE_THREDS: '2' } });
    try {
      const record = await serve.event('unknown-variable');
      assert.equal(record.level, 40);
      assert.match(record.msg, /GATEHOUSE_THREDS .*did you mean GATEHOUSE_THREADS\?/);
    } finally {
      await serve.dispose();
    }
  });

  it('no app at all', async () => {
    const result = await runServe([], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /ERR_APP_REQUIRED/);
  });
});

describe('app and engine errors: one line, non-zero exit', { timeout: 60_000 }, () => {
  const dir = tempDir({
    'app.js': HELLO_APP,
    'not-an-engine.mjs': 'export default { hello: 1 };\n',
  });

  it('a bad app path', async () => {
    const result = await runServe(['missing/app.js', '--engine', 'single', '--bind', '127.0.0.1:0'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(oneLine(result.stderr), /^serve: ERR_APP_NOT_FOUND: .*missing\/app\.js/);
  });

  it('an unknown engine is a usage error (exit 2) that lists every engine and suggests the nearest', async () => {
    for (const args of [['app.js'], ['--check-config', 'app.js']]) {
      const result = await runServe([...args, '--engine', 'threadd', '--bind', '127.0.0.1:0'], { cwd: dir });
      assert.equal(result.code, 2);
      const line = oneLine(result.stderr);
      assert.match(line, /ERR_ENGINE_UNKNOWN: .*"threadd" \(did you mean threaded\?\)/);
      assert.match(line, /known: hybrid, prefork, single, threaded/);
      assert.match(line, /\. Use single, prefork, threaded, hybrid, or a package/);
    }
  });

  it('a port that needs privileges: the hint says how to get them (--user, a port >= 1024, CAP_NET_BIND_SERVICE)', async (t) => {
    const lowest = Number(fs.readFileSync('/proc/sys/net/ipv4/ip_unprivileged_port_start', 'utf8'));
    if (lowest <= 80) return t.skip(`ports from ${lowest} up need no privilege on this machine`);
    // As root, run serve as nobody, who may not bind port 80.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    const open = tempDir({ 'app.js': HELLO_APP });
    fs.chmodSync(open, 0o755);
    fs.chmodSync(path.join(open, 'app.js'), 0o644);
    const result = await runServe(['app.js', '--engine', 'single', '--bind', '127.0.0.1:80'], { cwd: open, ...asNobody });
    assert.equal(result.code, 1);
    const line = oneLine(result.stderr);
    assert.match(line, /^serve: ERR_BIND_DENIED: .*127\.0\.0\.1:80: EACCES\. /);
    assert.match(line, /port >= 1024/);
    assert.match(line, /CAP_NET_BIND_SERVICE/);
    assert.match(line, /--user/);
    assert.doesNotMatch(line, /stop the process that holds it/);
  });

  it('a log file that cannot be opened', async () => {
    const result = await runServe(['app.js', '--engine', 'single', '--bind', '127.0.0.1:0', '--access-log', 'no/such/dir/access.log'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(oneLine(result.stderr), /^serve: ERR_LOG_OPEN: .*no\/such\/dir\/access\.log: ENOENT/);
  });

  it('an engine module that exports no engine class', async () => {
    const result = await runServe(['app.js', '--engine', './not-an-engine.mjs', '--bind', '127.0.0.1:0'], { cwd: dir });
    assert.equal(result.code, 1);
    assert.match(oneLine(result.stderr), /ERR_ENGINE_INVALID: .*not-an-engine\.mjs/);
  });
});

describe('--check-config', { timeout: 60_000 }, () => {
  const dir = tempDir({ 'app.js': HELLO_APP, 'broken.js': 'export default function (request) { return { status: 200 ;\n', 'throws.js': 'throw new Error("boom at import");\n' });

  it('exits 0 for valid settings and a loadable app', async () => {
    const result = await runServe(['--check-config', 'app.js', '--engine', 'single'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^ok: /);
  });

  for (const [file, code, detail] of [['broken.js', /ERR_APP_SYNTAX/, /broken\.js/], ['throws.js', /ERR_APP_IMPORT_FAILED/, /boom at import/], ['nope.js', /ERR_APP_NOT_FOUND/, /nope\.js/]] as const) {
    it(`exits 1 with the error line for ${file}`, async () => {
      const result = await runServe(['--check-config', file, '--engine', 'single'], { cwd: dir });
      assert.equal(result.code, 1);
      assert.match(result.stderr.split('\n')[0]!, /^serve: /);
      assert.match(result.stderr.split('\n')[0]!, code);
      assert.match(result.stderr, detail);
    });
  }

  it('exits 2 for a bad setting before loading anything', async () => {
    const result = await runServe(['--check-config', 'app.js', '--timeout', '-1'], { cwd: dir });
    assert.equal(result.code, 2);
    assert.match(oneLine(result.stderr), /timeout = "-1" from flag --timeout/);
  });
});

describe('serve help and serve check: words, not app paths', { timeout: 60_000 }, () => {
  const dir = tempDir({ 'app.js': HELLO_APP, 'throws.js': 'throw new Error("boom at import");\n' });

  it('serve help prints the help', async () => {
    const result = await runServe(['help'], { cwd: dir });
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stdout, /^Usage: serve \[options\] APP/);
    assert.equal(result.stderr, '');
  });

  it('serve check APP is serve --check-config APP', async () => {
    const ok = await runServe(['check', 'app.js', '--engine', 'single'], { cwd: dir });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(ok.stdout, /^ok: settings are valid; app app\.js loads/);
    const bad = await runServe(['check', 'throws.js', '--engine', 'single'], { cwd: dir });
    assert.equal(bad.code, 1);
    assert.match(oneLine(bad.stderr), /^serve: ERR_APP_IMPORT_FAILED: .*throws\.js.*boom at import/);
  });
});

describe('--help', { timeout: 30_000 }, () => {
  it('groups the options and fits a 100-column terminal', async () => {
    const result = await runServe(['--help']);
    assert.equal(result.code, 0);
    for (const group of ['Server:', 'Engine:', 'Limits:', 'Timeouts:', 'Logging:', 'Proxy:', 'TLS:', 'Development:', 'Metrics:', 'Actions:']) {
      assert.ok(result.stdout.includes(`\n${group}\n`), `--help has a ${group} group`);
    }
    assert.match(result.stdout, /--workers\s+N\|auto\s+Number of worker processes/);
    const widest = Math.max(...result.stdout.split('\n').map((l) => l.length));
    assert.ok(widest <= 100, `widest --help line is ${widest} columns`);
  });
});

describe('docs/configuration.md', () => {
  it('is what the settings table generates', () => {
    const file = path.join(REPO, 'docs/configuration.md');
    const current = fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '';
    assert.ok(current === renderConfigurationDoc(), `docs/configuration.md is stale. Regenerate it: ${REGENERATE_COMMAND}`);
  });
});
