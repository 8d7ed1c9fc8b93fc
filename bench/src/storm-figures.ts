/**
 * What one storm run measured, per disruption (the gateway restart, the network cut), and the verdict: a
 * run passes only when every client came back, every subscription reported full recovery, and no client
 * missed or saw twice any publication of its channel.
 */
import {
  emptyCounts,
  type PhaseCounts,
  type PublisherResult,
  type StormPhase,
  type SubscribersResult,
} from './storm-ipc.js'

export interface StormPhaseFigures extends PhaseCounts {
  phase: Exclude<StormPhase, 'setup' | 'final'>
  /** From the kill or the cut until every client had its subscription back (ms). */
  backMs: number | undefined
  /** Until every client had every publication acknowledged when the last one came back (ms). */
  caughtUpMs: number | undefined
  /** Restart only: from the SIGKILL until the new gateway answered `/health` (ms). */
  downMs?: number
  /** Connections the proxies cut (cut only). */
  cutConnections?: number
  /** The server's highest resident memory sampled during the phase (every 100 ms), MB. */
  peakRssMb: number | undefined
}

export interface StormFigures {
  subscribers: number
  channels: number
  ratePerChannel: number
  phases: StormPhaseFigures[]
  /** The server's RSS before the first disruption, MB. */
  steadyRssMb: number | undefined
  publisher: PublisherResult | undefined
  /** Publications every client should have: Σ over clients of their channel's last acknowledged number. */
  expected: number
  /** Publications that reached the applications (duplicates included). */
  received: number
  /** Clients short of their channel's last acknowledged number at the end. */
  clientsBehindAtEnd: number
  /** Gaps and duplicates outside the two disruptions (set-up, final catch-up). */
  otherGaps: number
  otherDuplicates: number
  examples: string[]
  /** Why the run does not pass (empty when it does). */
  problems: string[]
}

/** Sums the subscriber processes' counts per phase. */
export function mergeCounts(results: SubscribersResult[], phase: StormPhase): PhaseCounts {
  const total = emptyCounts()
  for (const result of results) {
    const counts = result.phases[phase]
    for (const key of Object.keys(total) as (keyof PhaseCounts)[]) total[key] += counts[key]
  }
  return total
}

/** The reasons a run fails: any of them means a client did not get exactly its channel's stream. */
export function stormProblems(figures: Omit<StormFigures, 'problems'>, label: string): string[] {
  const problems: string[] = []
  for (const phase of figures.phases) {
    const name = `${label}, ${phase.phase}`
    if (phase.clientsRecovered < figures.subscribers)
      problems.push(
        `${name}: ${figures.subscribers - phase.clientsRecovered} clients not back with a recovered subscription`,
      )
    if (phase.recovered < phase.resubscribes)
      problems.push(`${name}: ${phase.resubscribes - phase.recovered} subscriptions back without recovery`)
    if (phase.gaps > 0) problems.push(`${name}: ${phase.gaps} publications skipped`)
    if (phase.duplicates > 0) problems.push(`${name}: ${phase.duplicates} publications delivered twice`)
  }
  if (figures.otherGaps > 0)
    problems.push(`${label}: ${figures.otherGaps} publications skipped outside the disruptions`)
  if (figures.otherDuplicates > 0)
    problems.push(`${label}: ${figures.otherDuplicates} publications delivered twice outside the disruptions`)
  if (figures.clientsBehindAtEnd > 0)
    problems.push(
      `${label}: ${figures.clientsBehindAtEnd} clients never got their channel's last publications`,
    )
  if ((figures.publisher?.offsetRegressions ?? 0) > 0)
    problems.push(
      `${label}: ${figures.publisher?.offsetRegressions} acknowledged offsets went backwards or changed epoch`,
    )
  return problems
}
