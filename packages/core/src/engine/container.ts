/*
 * The container factory: the one place engines are chosen and constructed. The CLI and
 * createServer() both use it; embedders may rebind any token before resolving the engine.
 */
import 'reflect-metadata';
import { Container } from 'inversify';
import { TOKENS } from './tokens.js';
import { GatehouseError } from '../errors/index.js';
import type { Engine, EngineClass, EngineContext } from './engine.js';

/** Built-in engines register here (engine packages call registerEngine on import). */
const registry = new Map<string, EngineClass | (() => Promise<EngineClass>)>();

export function registerEngine(name: string, engine: EngineClass | (() => Promise<EngineClass>)): void {
  registry.set(name, engine);
}

export function knownEngines(): string[] {
  return [...registry.keys()].sort();
}

export async function resolveEngineClass(name: string): Promise<EngineClass> {
  const entry = registry.get(name);
  if (entry) return isEngineClass(entry) ? entry : await entry();
  throw new GatehouseError('ERR_ENGINE_UNKNOWN', `"${name}" (known: ${knownEngines().join(', ')})`);
}

function isEngineClass(value: EngineClass | (() => Promise<EngineClass>)): value is EngineClass {
  return typeof value === 'function' && value.prototype !== undefined && typeof value.prototype.start === 'function';
}

export function createContainer(context: EngineContext, engine: EngineClass): Container {
  const container = new Container();
  container.bind(TOKENS.EngineContext).toConstantValue(context);
  container.bind(TOKENS.Settings).toConstantValue(context.settings);
  container.bind(TOKENS.AppSource).toConstantValue(context.app);
  container.bind<Engine>(TOKENS.Engine).toDynamicValue(() => new engine(context)).inSingletonScope();
  return container;
}
