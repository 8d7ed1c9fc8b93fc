import { createMemorySessionBindingStore } from '@parley/stores'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { ChannelRegistry } from '../channels/channel-registry.js'
import type { Connection } from '../peers/connection.js'
import { createSessionResume } from './session-resume.js'

function fakeConnection(sessionId: string, principal: string): Connection {
  return {
    sessionId,
    principal,
    clientId: 'c1',
    clientIdChosen: true,
    openedAt: 0,
    subscriptions: new Set<string>(),
  } as unknown as Connection
}

function setup(options: { maxMessages?: number; reconnectTimeout?: number; timeout?: number } = {}) {
  let now = 1_000
  const bindings = createMemorySessionBindingStore()
  const sessions = createSessionResume({
    config: {
      reconnectTimeout: options.reconnectTimeout ?? 60,
      session: { timeout: options.timeout ?? 3600, maxMessages: options.maxMessages ?? 1000 },
    },
    channels: new ChannelRegistry<Connection>(),
    bindings: () => bindings,
    logger: pino({ level: 'silent' }),
    now: () => now,
  })
  return {
    sessions,
    bindings,
    advance(ms: number) {
      now += ms
    },
  }
}

describe('session resume', () => {
  it('resumes a detached session of the same principal once, with what was buffered', async () => {
    const { sessions, bindings } = setup()
    await bindings.bind('ses_1', { principal: 'pk_a', role: 'agent', metadata: {} })
    const connection = fakeConnection('ses_1', 'pk_a')
    sessions.noteActivity(connection, 1_000)
    sessions.detach(connection)
    sessions.bufferForAll(Buffer.from('frame'))

    const claim = await sessions.claim('ses_1', 'pk_a', undefined)
    expect(claim.kind).toBe('resume')
    expect(claim.kind === 'resume' && claim.session.buffer.map(String)).toEqual(['frame'])
    expect((await sessions.claim('ses_1', 'pk_a', undefined)).kind).toBe('fresh')
    sessions.stop()
  })

  it('refuses another principal, by the binding store even when this node does not hold the session', async () => {
    const { sessions, bindings } = setup()
    await bindings.bind('ses_2', { principal: 'pk_a', role: 'agent', metadata: {} })
    expect(await sessions.claim('ses_2', 'pk_b', undefined)).toEqual({ kind: 'forbidden' })
    sessions.detach(fakeConnection('ses_2', 'pk_a'))
    expect(await sessions.claim('ses_2', 'pk_b', undefined)).toEqual({ kind: 'forbidden' })
    // The refusal did not spend it.
    expect((await sessions.claim('ses_2', 'pk_a', undefined)).kind).toBe('resume')
    sessions.stop()
  })

  it('does not resume after reconnectTimeout, after session.timeout of inactivity, or past maxMessages', async () => {
    const late = setup({ reconnectTimeout: 1 })
    late.sessions.detach(fakeConnection('ses_3', 'pk_a'))
    late.advance(1_000)
    expect(await late.sessions.claim('ses_3', 'pk_a', undefined)).toMatchObject({ kind: 'fresh' })
    late.sessions.stop()

    const idle = setup({ timeout: 5 })
    const connection = fakeConnection('ses_4', 'pk_a')
    idle.sessions.noteActivity(connection, 1_000)
    idle.advance(5_000)
    idle.sessions.detach(connection)
    expect(await idle.sessions.claim('ses_4', 'pk_a', undefined)).toMatchObject({ kind: 'fresh' })
    idle.sessions.stop()

    const full = setup({ maxMessages: 2 })
    full.sessions.detach(fakeConnection('ses_5', 'pk_a'))
    for (const n of [1, 2, 3]) full.sessions.bufferForAll(Buffer.from(String(n)))
    expect(await full.sessions.claim('ses_5', 'pk_a', undefined)).toMatchObject({ kind: 'fresh' })
    full.sessions.stop()
  })
})
