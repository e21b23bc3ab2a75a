/*
 * DI tokens. The container binds these; the CLI and createServer() are the composition roots.
 * Symbols from Symbol.for() so a third-party engine built against another copy of core
 * still resolves the same tokens.
 */
export const TOKENS = {
  Engine: Symbol.for('gatehouse.Engine'),
  EngineContext: Symbol.for('gatehouse.EngineContext'),
  Settings: Symbol.for('gatehouse.Settings'),
  AppSource: Symbol.for('gatehouse.AppSource'),
  Logger: Symbol.for('gatehouse.Logger'),
} as const;
