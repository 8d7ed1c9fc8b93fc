/** Helpers every scenario's measurement uses: worker configuration and the server's CPU and memory. */
import type { ChildProcess } from 'node:child_process'
import type { FromWorker, ToWorker, WorkerConfig } from './ipc.js'
import { readCpuMs, readMachineCpuTicks, readMemory, sendTo } from './processes.js'

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

/** What `sampleServerOverWindow` read over one measured window. */
export interface ServerWindow {
  memory: ReturnType<typeof readMemory>
  /** The server processes' CPU time over the window's wall time; above 100 % means several threads. */
  cpuPercent: number | undefined
  /**
   * The whole machine's busy share over the window, of all its cores (100 %: none idle): load processes,
   * server and databases together. Near 100 % the row measured a saturated machine, whatever its rate.
   */
  machineBusyPercent: number | undefined
}

/**
 * Samples the server's CPU and the machine's at the sending worker's measurement-window edges and the
 * server's memory at the end of the window; `read()` gives the shares over the window (undefined when a
 * reading is missing).
 */
export function sampleServerOverWindow(sender: ChildProcess, pids: number[]) {
  let cpuAtStart: number | undefined
  let cpuAtEnd: number | undefined
  let machineAtStart: ReturnType<typeof readMachineCpuTicks>
  let machineAtEnd: ReturnType<typeof readMachineCpuTicks>
  let startedAt = 0
  let endedAt = 0
  let memory: ReturnType<typeof readMemory>
  sender.on('message', (message: FromWorker) => {
    if (message.type !== 'phase') return
    if (message.phase === 'measure-start') {
      startedAt = performance.now()
      cpuAtStart = sumOver(pids, readCpuMs)
      machineAtStart = readMachineCpuTicks()
    } else {
      endedAt = performance.now()
      cpuAtEnd = sumOver(pids, readCpuMs)
      machineAtEnd = readMachineCpuTicks()
      memory = readDeploymentMemory(pids)
    }
  })
  return {
    read: (): ServerWindow => ({
      memory,
      cpuPercent:
        cpuAtStart !== undefined && cpuAtEnd !== undefined && endedAt > startedAt
          ? ((cpuAtEnd - cpuAtStart) / (endedAt - startedAt)) * 100
          : undefined,
      machineBusyPercent: busyShare(machineAtStart, machineAtEnd),
    }),
  }
}

/** The busy share (percent) between two /proc/stat readings; undefined when one is missing. */
function busyShare(
  start: ReturnType<typeof readMachineCpuTicks>,
  end: ReturnType<typeof readMachineCpuTicks>,
): number | undefined {
  if (start === undefined || end === undefined || end.total <= start.total) return undefined
  return ((end.busy - start.busy) / (end.total - start.total)) * 100
}

/** Adds each code's count of `counts` to `into`. */
export function addCounts(into: Record<string, number>, counts: Record<string, number>): void {
  for (const [code, count] of Object.entries(counts)) into[code] = (into[code] ?? 0) + count
}

/** Bytes as MB, undefined kept. */
export function megabytes(bytes: number | undefined): number | undefined {
  return bytes === undefined ? undefined : bytes / (1024 * 1024)
}
