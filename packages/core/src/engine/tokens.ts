/*
 * DI tokens. The container binds these; the CLI and createServer() are the composition roots.
 * An engine's constructor asks for TOKENS.EngineContext with @inject; TOKENS.Engine is the
 * engine the composition root starts. Symbols from Symbol.for() so a third-party engine built
 * against another copy of core still resolves the same tokens.
 */
export const TOKENS = {
  Engine: Symbol.for('gatehouse.Engine'),
  EngineContext: Symbol.for('gatehouse.EngineContext'),
} as const;
