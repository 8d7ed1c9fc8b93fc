/** Helpers every scenario's measurement uses: worker configuration and the server's CPU and memory. */
import type { ChildProcess } from 'node:child_process'
import type { FromWorker, ToWorker, WorkerConfig } from './ipc.js'
import { readCpuMs, readMemory, sendTo } from './processes.js'

/** Summed over the deployment's server processes; undefined when any reading is missing. */
export function sumOver(pids: number[], read: (pid: number) => number | undefined): number | undefined {
  let sum = 0
  for (const pid of pids) {
    const value = read(pid)
    if (value === undefined) return undefined
    sum += value
  }
  return sum
}

export function readDeploymentMemory(pids: number[]): ReturnType<typeof readMemory> {
  const readings = pids.map(readMemory)
  if (readings.some((reading) => reading === undefined)) return undefined
  return {
    rssBytes: readings.reduce((sum, reading) => sum + (reading?.rssBytes ?? 0), 0),
    peakRssBytes: readings.reduce((sum, reading) => sum + (reading?.peakRssBytes ?? 0), 0),
  }
}

/** Sends a worker its configuration; returns the worker. */
export function configureWorker(child: ChildProcess, config: WorkerConfig): ChildProcess {
  sendTo(child, { type: 'config', config } satisfies ToWorker)
  return child
}

/** Worker `index`'s share of `total` connections, split as evenly as possible over `workerCount` workers. */
export function shareOf(total: number, workerCount: number, index: number): number {
  return Math.floor(total / workerCount) + (index < total % workerCount ? 1 : 0)
}

/**
 * Samples the server's CPU at the sending worker's measurement-window edges and its memory at the end of
 * the window; `read()` gives the CPU share over the window (undefined when a reading is missing).
 */
export function sampleServerOverWindow(sender: ChildProcess, pids: number[]) {
  let cpuAtStart: number | undefined
  let cpuAtEnd: number | undefined
  let startedAt = 0
  let endedAt = 0
  let memory: ReturnType<typeof readMemory>
  sender.on('message', (message: FromWorker) => {
    if (message.type !== 'phase') return
    if (message.phase === 'measure-start') {
      startedAt = performance.now()
      cpuAtStart = sumOver(pids, readCpuMs)
    } else {
      endedAt = performance.now()
      cpuAtEnd = sumOver(pids, readCpuMs)
      memory = readDeploymentMemory(pids)
    }
  })
  return {
    read: () => ({
      memory,
      cpuPercent:
        cpuAtStart !== undefined && cpuAtEnd !== undefined && endedAt > startedAt
          ? ((cpuAtEnd - cpuAtStart) / (endedAt - startedAt)) * 100
          : undefined,
    }),
  }
}

/** Adds each code's count of `counts` to `into`. */
export function addCounts(into: Record<string, number>, counts: Record<string, number>): void {
  for (const [code, count] of Object.entries(counts)) into[code] = (into[code] ?? 0) + count
}

/** Bytes as MB, undefined kept. */
export function megabytes(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / (1024 * 1024)
}
