import { createHash } from 'node:crypto'
import {
  type StreamResponse,
  type Task,
  type TaskPushNotificationConfig,
  TaskStatusUpdateEvent,
} from '@a2a-js/sdk'
import { V03PushNotificationSerializer } from '@a2a-js/sdk/compat/v0_3/server'
import { RequestMalformedError, TaskNotFoundError } from '@a2a-js/sdk/errors'
import {
  type PushNotificationSender,
  type PushNotificationStore,
  type ServerCallContext,
  V1PushNotificationSerializer,
} from '@a2a-js/sdk/server'
import {
  checkPushConfigInput,
  type DeliveryStore,
  InvalidTaskError,
  newPushConfigId,
  type StoredDelivery,
  TaskNotFoundError as StoredTaskNotFound,
  type TaskPushConfigInput,
  TaskPushConfigLimitError,
  type TaskPushTarget,
} from '@parley/stores'
import type { Logger } from 'pino'
import type { ConnectionAudit } from '../audit/connection-audit.js'
import type { DeliveryConfig } from '../config.js'
import {
  createWebhookDeliveries,
  WEBHOOK_RECIPIENT_PREFIX,
  type WebhookAttemptResult,
} from '../delivery/webhook-deliveries.js'
import { postOutbound } from '../security/outbound-post.js'
import {
  checkOutboundUrl,
  type OutboundUrlPolicy,
  OutboundUrlRefused,
  type ResolveAll,
  resolveAll,
} from '../security/outbound-url.js'
import { a2aCallOf } from './a2a-executor.js'
import { type A2aTaskStore, ownerOf } from './a2a-task-store.js'

/** The legacy token header of A2A push notifications (the SDK's default sender uses the same). */
export const NOTIFICATION_TOKEN_HEADER = 'X-A2A-Notification-Token'

/** What a webhook delivery keeps: where it goes (by config id, never the URL or secrets) and the body. */
interface PushDeliveryData {
  taskId: string
  configId: string
  agentId: string
  contentType: string
  /** The notification as JSON: v1.0 a `StreamResponse`, v0.3 the task (the SDK's serializers). */
  notification: unknown
}

export interface A2aPushDeps {
  tasks: A2aTaskStore
  /** The delivery store of the gateway's delivery backend. */
  deliveries: () => DeliveryStore
  delivery: DeliveryConfig
  policy: OutboundUrlPolicy
  /** Milliseconds one POST may take. */
  timeoutMs: number
  audit: Pick<ConnectionAudit, 'record' | 'deadLetter'>
  logger: Logger
  /** The resolver of webhook hosts (tests give fixed answers). */
  resolve?: ResolveAll
}

const V1 = new V1PushNotificationSerializer()
const V03 = new V03PushNotificationSerializer()

function taskIdOf(response: StreamResponse): string {
  const payload = response.payload
  if (payload === undefined) return ''
  return payload.$case === 'task' ? payload.value.id : payload.value.taskId
}

/** The SDK's config as the task store takes it: the secrets as given, the wire version it came over. */
function storedInput(config: TaskPushNotificationConfig, context: ServerCallContext): TaskPushConfigInput {
  const { authentication } = config
  return {
    ...(config.id ? { id: config.id } : {}),
    url: config.url,
    ...(config.token ? { token: config.token } : {}),
    ...(authentication?.scheme
      ? {
          authentication: {
            scheme: authentication.scheme,
            ...(authentication.credentials ? { credentials: authentication.credentials } : {}),
          },
        }
      : {}),
    protocolVersion: context.requestedVersion || '0.3',
  }
}

/** A store error as the A2A error the SDK maps to its code (-32602 invalid params, -32001 not found). */
function a2aError(error: unknown): unknown {
  if (error instanceof StoredTaskNotFound) return new TaskNotFoundError(`Task not found: ${error.taskId}`)
  if (error instanceof InvalidTaskError || error instanceof TaskPushConfigLimitError)
    return new RequestMalformedError(error.message)
  return error
}

/** The origin of a URL, for logs and audit rows: never its path or query, which may carry secrets. */
function originOf(url: string): string {
  return URL.canParse(url) ? new URL(url).origin : 'an invalid URL'
}

/**
 * A2A push notifications. `store` is the SDK's `PushNotificationStore` over the durable task store (webhook
 * URLs checked against server-side request forgery when registered; secrets stored encrypted, never answered
 * back). `sender` is the SDK's `PushNotificationSender`: the request handler calls it with every event of a
 * task, in order; each becomes a webhook delivery per push config of the task (see
 * `delivery/webhook-deliveries.ts`), POSTed in order, retried and dead-lettered like any delivery, each
 * attempt audited.
 */
export function createA2aPush(deps: A2aPushDeps) {
  const { tasks, policy, logger } = deps
  const resolve = deps.resolve ?? resolveAll

  async function checkUrl(url: string): Promise<void> {
    try {
      await checkOutboundUrl(url, policy, resolve)
    } catch (error) {
      if (error instanceof OutboundUrlRefused)
        throw new RequestMalformedError(`The push notification URL is refused: ${error.message}.`)
      throw error
    }
  }

  /** The task of the call's agent and owner, or undefined. */
  async function ownTask(taskId: string, context: ServerCallContext) {
    const record = await tasks.durable().get(taskId, { owner: ownerOf(context) })
    const agentId = a2aCallOf(context)?.agentId
    return record === undefined || (agentId !== undefined && record.agentId !== agentId) ? undefined : record
  }

  const store: PushNotificationStore = {
    async save(taskId, context, config) {
      await checkUrl(config.url)
      const input = storedInput(config, context)
      if ((await ownTask(taskId, context)) === undefined) {
        // A SendMessage's inline config comes before its task exists: it is stored with the task.
        const call = a2aCallOf(context)
        if (call === undefined) throw new TaskNotFoundError(`Task not found: ${taskId}`)
        const pending = { ...input, id: input.id ?? newPushConfigId() }
        try {
          checkPushConfigInput(pending)
        } catch (error) {
          throw a2aError(error)
        }
        call.pendingPushConfigs = [...(call.pendingPushConfigs ?? []), pending]
        config.id = pending.id
      } else {
        try {
          config.id = (await tasks.durable().setPushConfig(taskId, { owner: ownerOf(context) }, input)).id
        } catch (error) {
          throw a2aError(error)
        }
      }
      // The SDK answers the config it saved: the secrets are the caller's, not to be sent back.
      config.token = ''
      if (config.authentication !== undefined) config.authentication.credentials = ''
    },

    async load(taskId, context) {
      if ((await ownTask(taskId, context)) === undefined) return []
      const configs = await tasks.durable().listPushConfigs(taskId, { owner: ownerOf(context) })
      return configs.map((config) => ({
        tenant: '',
        id: config.id,
        taskId,
        url: config.url,
        token: '',
        authentication:
          config.authentication === null
            ? undefined
            : { scheme: config.authentication.scheme, credentials: '' },
      }))
    },

    async delete(taskId, context, configId) {
      if ((await ownTask(taskId, context)) === undefined)
        throw new TaskNotFoundError(`Task not found: ${taskId}`)
      await tasks.durable().deletePushConfig(taskId, { owner: ownerOf(context) }, configId ?? taskId)
    },
  }

  function recordAttempt(
    data: PushDeliveryData,
    attempt: number,
    startedAt: number,
    result: string,
    ok: boolean,
  ) {
    deps.audit.record({
      kind: 'a2a',
      outcome: ok ? 'ok' : 'error',
      principal: null,
      clientId: null,
      connectionId: null,
      target: data.agentId,
      correlationId: data.taskId,
      latencyMs: Date.now() - startedAt,
      detail: `push ${data.configId} attempt ${attempt}: ${result}`,
    })
  }

  /** The headers of a notification: its content type, the config's token and authentication. */
  function headersOf(target: TaskPushTarget, data: PushDeliveryData): Record<string, string> {
    const headers: Record<string, string> = { 'content-type': data.contentType }
    if (target.token !== null) headers[NOTIFICATION_TOKEN_HEADER] = target.token
    if (target.authentication?.credentials != null)
      headers.authorization = `${target.authentication.scheme} ${target.authentication.credentials}`
    return headers
  }

  async function attempt(delivery: StoredDelivery): Promise<WebhookAttemptResult> {
    const data = delivery.data as PushDeliveryData
    const startedAt = Date.now()
    const number = delivery.attempts + 1
    const target = (await tasks.durable().pushTargets(data.taskId)).find((item) => item.id === data.configId)
    if (target === undefined) {
      recordAttempt(data, number, startedAt, 'dropped: the push config was deleted', true)
      return { outcome: 'dropped', reason: 'the push config was deleted' }
    }
    const where = originOf(target.url)
    try {
      // The URL is checked again at each attempt: the operator's settings or the host's DNS may have changed.
      const status = await postOutbound(target.url, {
        body: Buffer.from(JSON.stringify(data.notification), 'utf8'),
        headers: headersOf(target, data),
        policy,
        timeoutMs: deps.timeoutMs,
        resolve,
      })
      if (status >= 200 && status < 300) {
        recordAttempt(data, number, startedAt, `HTTP ${status} from ${where}`, true)
        return { outcome: 'accepted' }
      }
      recordAttempt(data, number, startedAt, `HTTP ${status} from ${where}`, false)
      return { outcome: 'failed', error: `HTTP ${status} from ${where}` }
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error)
      recordAttempt(data, number, startedAt, `${reason} (${where})`, false)
      return { outcome: 'failed', error: `${reason} (${where})` }
    }
  }

  const webhooks = createWebhookDeliveries({
    config: deps.delivery,
    deliveries: deps.deliveries,
    attempt,
    deadLettered: (delivery) => deps.audit.deadLetter(delivery, 'max_retries'),
    logger,
  })

  /** Queues the event for every push config of the task, in the config's wire version. */
  async function enqueue(
    taskId: string,
    scope: { owner: string; agentId: string | undefined },
    response: StreamResponse,
    task: Task | undefined,
  ) {
    const durable = tasks.durable()
    // One read per event for the usual task without push configs.
    const configs = await durable.listPushConfigs(taskId, { owner: scope.owner }).catch((error: unknown) => {
      if (error instanceof StoredTaskNotFound) return []
      throw error
    })
    if (configs.length === 0) return
    const agentId = scope.agentId ?? (await durable.get(taskId, { owner: scope.owner }))?.agentId
    if (agentId === undefined) return
    for (const config of configs) {
      const { body, contentType } = (config.protocolVersion === '0.3' ? V03 : V1).serialize(response, task)
      const data: PushDeliveryData = {
        taskId,
        configId: config.id,
        agentId,
        contentType,
        notification: JSON.parse(body) as unknown,
      }
      await webhooks.enqueue({
        recipient: `${WEBHOOK_RECIPIENT_PREFIX}${taskId}/${config.id}`,
        source: `a2a:${agentId}`,
        data,
        // The same event seen twice (a cancel's own event loop beside the task's) is queued once.
        idempotencyKey: createHash('sha256').update(body).digest('base64url'),
      })
    }
  }

  const chains = new Map<string, Promise<void>>()
  /** Queues after the task's previous events: the handler calls in event order without waiting. */
  function chain(
    taskId: string,
    scope: { owner: string; agentId: string | undefined },
    response: StreamResponse,
    task: Task | undefined,
  ): Promise<void> {
    const previous = chains.get(taskId) ?? Promise.resolve()
    const next = previous
      .then(() => enqueue(taskId, scope, response, task))
      .catch((error: unknown) => logger.warn({ err: error, taskId }, 'queueing a push notification failed'))
    chains.set(taskId, next)
    void next.finally(() => {
      if (chains.get(taskId) === next) chains.delete(taskId)
    })
    return next
  }

  const sender: PushNotificationSender = {
    send(response, context, task) {
      const taskId = taskIdOf(response)
      if (taskId === '') return Promise.resolve()
      return chain(taskId, { owner: ownerOf(context), agentId: a2aCallOf(context)?.agentId }, response, task)
    },
  }

  return {
    store,
    sender,
    /**
     * A status event stored outside the request handler (the orphan sweep failing a dead node's task): sent on
     * like the handler's, as a v1.0 status update (a v0.3 config gets its v0.3 form).
     */
    statusStored(task: { id: string; owner: string; agentId: string }, payload: unknown): void {
      const value = TaskStatusUpdateEvent.fromJSON(payload)
      void chain(
        task.id,
        { owner: task.owner, agentId: task.agentId },
        {
          payload: { $case: 'statusUpdate', value },
        },
        undefined,
      )
    },
    /** A requeued dead letter of kind `webhook`: its recipient's loop looks again. */
    wake: (recipient: string) => webhooks.wake(recipient),
    counters: webhooks.counters,
    start: (options: { resume: boolean }) => webhooks.start(options),
    /** Waits for the queueing in progress, then stops the delivery loops. */
    async stop(): Promise<void> {
      await Promise.allSettled([...chains.values()])
      await webhooks.stop()
    },
  }
}

export type A2aPush = ReturnType<typeof createA2aPush>
