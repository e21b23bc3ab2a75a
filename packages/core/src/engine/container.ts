/*
 * The container factory: the one place an engine is constructed. The composition root (the
 * CLI's createServer, or an embedder) decides which engine class runs, then binds it here once;
 * inversify constructs it and injects what its constructor's @inject decorators ask for
 * (TOKENS.EngineContext, or anything else bound in the container), so built-in and third-party
 * engines are built the same way. Rebind a token before the engine is resolved to change what
 * it gets.
 */
import 'reflect-metadata';
import { Container, decorate, injectFromBase } from 'inversify';
import { TOKENS } from './tokens.js';
import { GatehouseError } from '../errors/index.js';
import type { Engine, EngineClass, EngineContext } from './engine.js';

export function createContainer(context: EngineContext, engine: EngineClass): Container {
  const container = new Container();
  container.bind(TOKENS.EngineContext).toConstantValue(context);
  inheritInjections(engine);
  try {
    container.bind<Engine>(TOKENS.Engine).to(engine).inSingletonScope();
  } catch (error) {
    throw new GatehouseError('ERR_ENGINE_NOT_INJECTABLE', `${engine.name}: ${String((error as Error).message).split('\n')[0]}`, { cause: error });
  }
  return container;
}

/**
 * A subclass that declares no injections of its own inherits its constructor, so it takes its
 * base class's injections too (`class Mine extends SingleEngine {}` gets the EngineContext).
 * Inversify reads only a class's own metadata, hence the explicit injectFromBase.
 */
function inheritInjections(engine: Function): void {
  const base = Object.getPrototypeOf(engine) as Function | null;
  if (typeof base !== 'function' || base === Function.prototype || hasInjections(engine)) return;
  inheritInjections(base);
  if (hasInjections(base)) decorate(injectFromBase(), engine);
}

function hasInjections(target: Function): boolean {
  return Reflect.getOwnMetadataKeys(target).some((key) => typeof key === 'string' && key.startsWith('@inversifyjs/'));
}
