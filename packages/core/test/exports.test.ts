/*
 * The public surface of @gatehouse/core, pinned: the exact names its entry exports, values and
 * types, resolved through the package's own "exports" map as a user imports it. Adding or
 * removing a public name means editing a list here, so it is a decision, not a side effect.
 * The internal entry must not leak back into the public one, and core must have no import cycle.
 */
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const PUBLIC_VALUES = [
  'CATALOGUE', 'GATEWAY_INTERFACE_VERSION', 'GatehouseError', 'HeaderList', 'InLoopServer', 'RequestBody', 'SETTINGS',
  'SingleEngine', 'TOKENS', 'adaptFetchHandler', 'adaptNodeListener', 'bindAll', 'bufferedBodySource', 'channels',
  'createContainer', 'createHttpService', 'createRequest', 'defaultSettings', 'dropPrivileges', 'installFetchGlobals',
  'isGatehouseError', 'loadApp', 'prepareToListen', 'validate',
];

const PUBLIC_TYPES = [
  'AppSource', 'Application', 'BodySource', 'BoundListeners', 'CatalogueEntry', 'ConnectionMessage', 'Dispatcher',
  'Engine', 'EngineClass', 'EngineContext', 'EngineMessage', 'EngineName', 'EngineStats', 'ErrorCode', 'FetchHandler',
  'GatewayRequest', 'GatewayResponse', 'HeaderInit', 'Hook', 'HttpService', 'HttpServiceStats', 'LifecycleHook',
  'ListenAddress', 'ListenTarget', 'LoadOptions', 'LoadedApp', 'LogsReopenMessage', 'MetricsCollectMessage',
  'NodeListener', 'ProtocolErrorMessage', 'RequestEndMessage', 'RequestErrorMessage', 'RequestHead',
  'RequestStartMessage', 'ResponseBody', 'ResponseHeaders', 'SerializedError', 'SettingGroup', 'SettingKind',
  'SettingName', 'SettingSpec', 'Settings', 'SocketAddress', 'StopOptions', 'UnitMessage', 'UnitState', 'UnitStats',
  // Gateway Interface 1.1: upgrades and WebSockets.
  'GatewayWebSocket', 'HttpVersion', 'StreamAcceptOptions', 'UpgradeOffer', 'UpgradedStream', 'WebSocketAcceptOptions', 'WebSocketData',
];

const require = createRequire(import.meta.url);
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

/** Every name a module exports, types included, read from its declaration file by the compiler. */
function declaredExports(dts: string): string[] {
  const program = ts.createProgram([dts], { module: ts.ModuleKind.NodeNext, moduleResolution: ts.ModuleResolutionKind.NodeNext, noEmit: true });
  const checker = program.getTypeChecker();
  const module = checker.getSymbolAtLocation(program.getSourceFile(dts)!)!;
  return checker.getExportsOfModule(module).map((symbol) => symbol.getName()).sort();
}

describe('@gatehouse/core public surface', { timeout: 60_000 }, () => {
  it('exports exactly the listed values', async () => {
    const core = await import('@gatehouse/core');
    assert.deepEqual(Object.keys(core).sort(), [...PUBLIC_VALUES].sort());
  });

  it('exports exactly the listed values and types', () => {
    const dts = require.resolve('@gatehouse/core').replace(/\.js$/, '.d.ts');
    assert.deepEqual(declaredExports(dts), [...PUBLIC_VALUES, ...PUBLIC_TYPES].sort());
  });

  it('the internal entry resolves and shares no value with the public one', async () => {
    const internal = await import('@gatehouse/core/internal');
    assert.ok(typeof internal.resolveSettings === 'function' && typeof internal.ActionLoop === 'function');
    const both = Object.keys(internal).filter((name) => PUBLIC_VALUES.includes(name));
    assert.deepEqual(both, []);
  });
});

describe('core source', () => {
  it('has no import cycle (type-only imports count: they tie the modules together just the same)', () => {
    const graph = new Map<string, string[]>();
    const walk = (dir: string): void => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const file = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(file);
        else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) {
          const text = fs.readFileSync(file, 'utf8');
          const targets = [...text.matchAll(/^(?:import|export)\b[^'"]*?from\s+'(\.[^']+)'|^import\s+'(\.[^']+)'/gm)]
            .map((match) => path.resolve(path.dirname(file), (match[1] ?? match[2])!.replace(/\.js$/, '.ts')));
          graph.set(file, targets);
        }
      }
    };
    walk(SRC);
    assert.ok(graph.size > 20, `read ${graph.size} source files under ${SRC}`);
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (file: string): void => {
      state.set(file, 'open');
      stack.push(file);
      for (const next of graph.get(file) ?? []) {
        if (!graph.has(next)) continue;
        if (state.get(next) === 'open') cycles.push([...stack.slice(stack.indexOf(next)), next].map((f) => path.relative(SRC, f)).join(' -> '));
        else if (!state.has(next)) visit(next);
      }
      stack.pop();
      state.set(file, 'done');
    };
    for (const file of graph.keys()) if (!state.has(file)) visit(file);
    assert.deepEqual(cycles, []);
  });
});
