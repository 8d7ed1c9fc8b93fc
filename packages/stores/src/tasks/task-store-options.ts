import { randomBytes } from 'node:crypto'
import {
  createPushSecretBox,
  DEFAULT_MAX_PUSH_CONFIGS_PER_TASK,
  type PushSecretBox,
} from './task-push-configs.js'
import {
  DEFAULT_MAX_TASK_ARTIFACTS_BYTES,
  DEFAULT_MAX_TASK_EVENT_BYTES,
  positiveInteger,
  type TaskLimits,
} from './task-records.js'
import type { TaskStoreOptions } from './types.js'

export interface ResolvedTaskStoreOptions extends TaskLimits {
  maxPushConfigsPerTask: number
  secrets: PushSecretBox
}

/**
 * The options with their defaults. A store whose data outlives the process needs a stable `secretKey`:
 * a random one would leave the stored push secrets undecryptable after a restart.
 */
export function resolveTaskStoreOptions(
  options: TaskStoreOptions = {},
  { requireSecretKey }: { requireSecretKey: boolean },
): ResolvedTaskStoreOptions {
  if (options.secretKey === undefined && requireSecretKey) {
    throw new RangeError('secretKey is required: the push configs of tasks are encrypted with it')
  }
  return {
    maxEventBytes: positiveInteger('maxEventBytes', options.maxEventBytes, DEFAULT_MAX_TASK_EVENT_BYTES),
    maxArtifactsBytes: positiveInteger(
      'maxArtifactsBytes',
      options.maxArtifactsBytes,
      DEFAULT_MAX_TASK_ARTIFACTS_BYTES,
    ),
    maxPushConfigsPerTask: positiveInteger(
      'maxPushConfigsPerTask',
      options.maxPushConfigsPerTask,
      DEFAULT_MAX_PUSH_CONFIGS_PER_TASK,
    ),
    secrets: createPushSecretBox(options.secretKey ?? randomBytes(32)),
  }
}
