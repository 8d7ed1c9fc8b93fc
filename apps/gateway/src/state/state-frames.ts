import type { Authorize } from '../access/authorize.js'
import type { Connection } from '../peers/connection.js'
import type { FrameRegistry } from '../peers/frame-registry.js'
import type { StateFrame, StateService } from './state-service.js'

const STATE_FRAMES = [
  'state_get',
  'state_set',
  'state_delete',
  'state_list',
  'state_history',
  'state_watch',
  'state_unwatch',
] as const satisfies readonly StateFrame['type'][]

/**
 * The shared state frames. Scopes first, as for channels: the namespace is the channel `state:<namespace>`
 * (writes need `publish`, reads `subscribe`); the state service checks the policies itself.
 */
export function registerStateFrames(
  frames: FrameRegistry,
  options: { state: Pick<StateService, 'handle'>; authorize: Authorize },
): void {
  const { state, authorize } = options
  const handle = (connection: Connection, frame: StateFrame): Promise<void> | undefined => {
    if (frame.type !== 'state_unwatch') {
      const write = frame.type === 'state_set' || frame.type === 'state_delete'
      const target = `state:${frame.namespace}`
      const allowed = authorize(connection, write ? 'publish' : 'subscribe', target, 'scopes only')
      if (!allowed.allowed) {
        connection.sendError(allowed.error, frame.id)
        return undefined
      }
    }
    return state.handle(connection, frame)
  }
  for (const type of STATE_FRAMES) frames.on(type, handle)
}
