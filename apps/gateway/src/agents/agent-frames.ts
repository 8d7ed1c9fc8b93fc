import { errorBody } from '@parley/protocol'
import type { Authorize } from '../access/authorize.js'
import type { FrameRegistry } from '../peers/frame-registry.js'
import { AGENT_LAYER_FRAMES, type AgentLayer } from './agent-layer.js'
import type { Introductions } from './introductions.js'
import type { Signaling } from './signaling.js'

export interface AgentFramesOptions {
  agents: Pick<AgentLayer, 'handle'>
  /** Answers `introduce` and `introduction_answer`; without it they get `unavailable`. */
  introductions: () => Introductions | undefined
  signaling: Pick<Signaling, 'signal'>
  authorize: Authorize
}

/** The agent frames: the agent layer's (directory, requests, streams, sends), introductions and signals. */
export function registerAgentFrames(frames: FrameRegistry, options: AgentFramesOptions): void {
  const { agents, authorize } = options
  for (const type of AGENT_LAYER_FRAMES) {
    frames.on(type, (connection, frame, size) => agents.handle(connection, frame, size))
  }
  const unavailable = errorBody('unavailable', 'introductions are not available')
  frames.on('introduce', (connection, frame) => {
    const introductions = options.introductions()
    if (introductions === undefined) connection.sendError(unavailable, frame.id)
    else introductions.introduce(connection, frame)
    return undefined
  })
  frames.on('introduction_answer', (connection, frame) => {
    const introductions = options.introductions()
    if (introductions === undefined) connection.sendError(unavailable)
    else introductions.answer(connection, frame)
    return undefined
  })
  // Scopes here; the signaling checks the policies itself, with the peer it reaches.
  frames.on('signal', (connection, frame) => {
    const allowed = authorize(connection, 'send', frame.target, 'scopes only')
    if (allowed.allowed) return options.signaling.signal(connection, frame)
    connection.sendError(allowed.error, frame.id)
    return undefined
  })
}
