/*
 * @gatehouse/bench public surface: run a comparison from a program (runBench), mount it in a
 * CLI (benchCommandSpec + benchMain), or render a saved report.json again.
 */
export { runBench, writeReport } from './run.js';
export { benchMain, parseBenchArgv, benchUsage } from './main.js';
export { benchCommandSpec, DEFAULTS, ENGINE_NAMES, PEER_NAMES, type BenchOptions, type BenchProgress, type FlagSpec, type BenchEngine, type BenchPeer } from './options.js';
export { planBench, type BenchPlan, type Target } from './plan.js';
export { SCENARIO_NAMES, builtInScenario, type Scenario, type ScenarioName } from './scenarios.js';
export { renderSvg } from './report/svg.js';
export { renderMarkdown, markdownTable } from './report/markdown.js';
export { terminalTable, TERMINAL_WIDTH } from './report/table.js';
export { comparisons, tradeOffLines, outcomeOf, MIN_ROUNDS, type Comparison, type Outcome } from './report/verdict.js';
export { REPORT_SCHEMA, type BenchReport, type TargetReport, type TargetSummary, type RoundResult } from './report/types.js';
export type { LoadResult, LoadSpec, LoadRequest, LatencyMs } from './loadgen/types.js';
export { parseWrkOutput } from './loadgen/wrk.js';
export { median, percentile, spread, ratio, type Spread } from './stats.js';
export { BenchError, BENCH_ERRORS, type BenchErrorCode } from './errors.js';
