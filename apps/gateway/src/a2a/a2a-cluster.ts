import { type Task, TaskState, TaskStatus } from '@a2a-js/sdk'
import { DefaultRequestHandler } from '@a2a-js/sdk/server'
import type { TaskStore as ParleyTaskStore, TaskSummary } from '@parley/stores'
import type { Logger } from 'pino'
import type { ClusterBus } from '../bus/types.js'
import { BUS_GROUPS, NODE_TTL_MS } from '../cluster/cluster-node.js'
import { agentMessage } from './a2a-parts.js'

/** What the A2A face needs of the cluster bus. */
export type A2aBus = Pick<ClusterBus, 'nodeId' | 'state' | 'onState' | 'subscribe' | 'publish' | 'entries'>

/** Where a `CancelTask` is announced to every node: the one that runs the task aborts the agent's work. */
export const A2A_CANCEL_TOPIC = 'a2a:cancel'

/** The node that runs (ran) a task, as the executor recorded it in `metadata.parley.node`. */
export function taskNodeOf(metadata: unknown): string | undefined {
  const parley = (metadata as { parley?: { node?: unknown } } | null)?.parley
  return typeof parley?.node === 'string' ? parley.node : undefined
}

/**
 * Carries a `CancelTask` over the bus to the node that runs the task. The node that received the cancel has
 * no event bus for a task another node runs: the SDK then only stores CANCELED. The relay announces the
 * cancel; the node running the task aborts the agent's work and publishes CANCELED to its own caller's
 * stream. Best effort, as everything on the bus: a lost announcement leaves the agent working on a task that
 * is CANCELED in the store (its later events are refused there).
 */
export function createCancelRelay(options: {
  bus: A2aBus
  /** Cancels the task when this node runs it; false otherwise. */
  cancelHere: (taskId: string) => boolean
  logger: Logger
}) {
  const { bus, logger } = options
  const unsubscribe = bus.subscribe(A2A_CANCEL_TOPIC, (payload) => {
    let taskId: unknown
    try {
      taskId = (JSON.parse(payload) as { taskId?: unknown }).taskId
    } catch {
      return
    }
    if (typeof taskId === 'string' && options.cancelHere(taskId))
      logger.debug({ taskId }, 'A2A task canceled by another node')
  })
  return {
    /** Announces a cancel the SDK handled on this node, for the node that runs the task (if another). */
    announce(taskId: string): void {
      if (bus.state() === 'local') return
      bus.publish(A2A_CANCEL_TOPIC, JSON.stringify({ taskId }))
    },
    stop: unsubscribe,
  }
}

/** The SDK's request handler, announcing every cancel it made (see `createCancelRelay`). */
export class ClusterRequestHandler extends DefaultRequestHandler {
  readonly #canceled: (taskId: string) => void

  constructor(
    canceled: (taskId: string) => void,
    ...args: ConstructorParameters<typeof DefaultRequestHandler>
  ) {
    super(...args)
    this.#canceled = canceled
  }

  override async cancelTask(...args: Parameters<DefaultRequestHandler['cancelTask']>): Promise<Task> {
    const task = await super.cancelTask(...args)
    this.#canceled(task.id)
    return task
  }
}

/**
 * Ends the tasks a node left unfinished when it died (SIGKILL, a lost machine): a task that is not terminal,
 * unchanged for `graceMs`, whose node (`metadata.parley.node`) has no heartbeat in the cluster's node list,
 * becomes FAILED with a status message saying so. A task of this very node that does not run here is one an
 * earlier process of the same node id left (it restarted). Runs at start-up and every `intervalMs`; every
 * node sweeps (two nodes ending the same task: the second append is refused, which is fine). Other nodes are
 * judged only once the node list had time to fill (`NODE_TTL_MS` after the start or after a bus outage),
 * and never while the bus is unreachable.
 */
export function createOrphanedTaskSweeper(options: {
  tasks: () => ParleyTaskStore
  bus: A2aBus
  runsHere: (taskId: string) => boolean
  intervalMs: number
  graceMs: number
  logger: Logger
  /** Called with each task it failed and the status event it stored (push notifications send it on). */
  failed?: (task: TaskSummary, payload: unknown) => void
}) {
  const { bus, logger } = options
  let timer: NodeJS.Timeout | undefined
  let judgeOthersAfter = Number.POSITIVE_INFINITY
  let sweeping = false
  let unsubscribe = () => {}

  /** Whether the node that ran the task is gone (undefined: cannot tell yet). */
  function isOrphaned(task: TaskSummary, alive: Set<string> | undefined): boolean {
    const node = taskNodeOf(task.metadata)
    if (node === bus.nodeId || node === undefined) return !options.runsHere(task.id)
    return alive !== undefined && !alive.has(node)
  }

  async function sweep(now = Date.now()): Promise<number> {
    const state = bus.state()
    if (state === 'degraded') return 0
    let alive: Set<string> | undefined
    if (state === 'local') alive = new Set([bus.nodeId])
    else if (now >= judgeOthersAfter) alive = new Set((await bus.entries(BUS_GROUPS.nodes)).keys())
    const stale = await options.tasks().listStale({ updatedBefore: now - options.graceMs, limit: 1_000 })
    let failed = 0
    for (const task of stale) {
      if (!isOrphaned(task, alive)) continue
      const node = taskNodeOf(task.metadata) ?? 'unknown'
      const text = `the gateway node ${node} that ran this task is gone (no heartbeat); its work is lost`
      try {
        const payload = {
          taskId: task.id,
          contextId: task.contextId,
          status: TaskStatus.toJSON({
            state: TaskState.TASK_STATE_FAILED,
            message: agentMessage(task.id, task.contextId, text, { parley: { code: 'node_gone', node } }),
            timestamp: new Date(now).toISOString(),
          }),
        }
        await options.tasks().appendEvent(task.id, { kind: 'status', state: 'failed', payload })
        failed += 1
        options.failed?.(task, payload)
      } catch (error) {
        // Ended meanwhile (by its node, or by another node's sweep).
        logger.debug({ err: error, taskId: task.id }, 'orphaned A2A task not failed')
      }
    }
    if (failed > 0) logger.warn({ failed }, 'A2A tasks of gone nodes failed')
    return failed
  }

  function tick(): void {
    if (sweeping) return
    sweeping = true
    sweep()
      .catch((error: unknown) => logger.warn({ err: error }, 'orphaned A2A task sweep failed'))
      .finally(() => {
        sweeping = false
      })
  }

  return {
    sweep,
    start(): void {
      if (timer !== undefined) return
      judgeOthersAfter = Date.now() + NODE_TTL_MS
      unsubscribe = bus.onState((state) => {
        if (state === 'ok') judgeOthersAfter = Date.now() + NODE_TTL_MS
      })
      tick()
      timer = setInterval(tick, options.intervalMs)
      timer.unref()
    },
    stop(): void {
      clearInterval(timer)
      timer = undefined
      unsubscribe()
    },
  }
}
