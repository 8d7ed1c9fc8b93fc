import type { ScenarioName } from './options.js'
import type { RowSummary, TableRow } from './report.js'
import type { Contender, LoadPlan, RunResult } from './run-plan.js'

/** A scenario ready to run: its load, its rows, and how its table looks. */
export interface ScenarioPlan {
  name: ScenarioName
  /** Printed before the runs: the set-up in words. */
  description: string[]
  load: LoadPlan
  contenders: Contender[]
  /** The table's rows in order: every contender, and the rows that cannot run with their reason. */
  rows: TableRow[]
  /** Where Parley's database lives, password hidden; undefined without Parley. */
  database: string | undefined
  render(summaries: RowSummary[]): string
  /**
   * After the saturating runs, run every row again publishing at this share of Parley's median
   * publishes/s (fan-out: `--paced-share`, default 0.5), for the latency below saturation; unset: no paced runs.
   */
  pacedShareOfParley?: number
  /** Runs one contender once, for a scenario with its own runner (mcp); otherwise `runScenario` does. */
  runOne?(contender: Contender, run: number): Promise<RunResult>
  /** The line printed after each successful run, for a scenario whose figures are not the publish ones. */
  describeRun?(result: RunResult, label: string): string
  /** Problems in the scenario's runs that must fail the bench (exit code 1), e.g. the storm's lost messages. */
  check?(runs: RunResult[]): string[]
}

/** The gateway entry point, resolved once; undefined when Parley is not a target. */
export type GatewayEntry = { path: string } | undefined
