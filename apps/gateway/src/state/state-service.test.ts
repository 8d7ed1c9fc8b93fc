import type { ServerFrame } from '@parley/protocol'
import { createMemoryStateStore } from '@parley/stores'
import { pino } from 'pino'
import { describe, expect, it } from 'vitest'
import { createConnectionAudit } from '../audit/connection-audit.js'
import { createLocalBus } from '../bus/memory-bus.js'
import { parseConfig } from '../config.js'
import { createStateService, type StateCaller } from './state-service.js'

function caller(id: string): StateCaller & { frames: ServerFrame[]; isOpen: boolean } {
  const frames: ServerFrame[] = []
  return {
    id,
    principal: `principal-${id}`,
    role: 'client',
    clientId: `client-${id}`,
    isOpen: true,
    frames,
    sendFrame(frame) {
      frames.push(frame)
      return true
    },
  }
}

function service() {
  const logger = pino({ level: 'silent' })
  const store = createMemoryStateStore()
  return createStateService({
    config: parseConfig({}).state,
    store: () => store,
    bus: createLocalBus('node-1'),
    audit: createConnectionAudit({ record: () => {} }, logger),
    logger,
  })
}

describe('state service', () => {
  it('drops the watches of a closed connection: it gets no change after', async () => {
    const state = service()
    const watcher = caller('watcher')
    const writer = caller('writer')
    await state.handle(watcher, { type: 'state_watch', id: 'w1', namespace: 'ns' })
    await state.handle(watcher, { type: 'state_watch', id: 'w2', namespace: 'ns', key: 'k' })
    expect(state.watchCount()).toBe(2)
    state.connectionClosed(watcher)
    expect(state.watchCount()).toBe(0)
    await state.handle(writer, { type: 'state_set', id: 's1', namespace: 'ns', key: 'k', value: 1 })
    expect(watcher.frames.filter((frame) => frame.type === 'state_change')).toEqual([])
  })

  it('tells a writer watching its own key about its write (local delivery), after the reply', async () => {
    const state = service()
    const writer = caller('writer')
    await state.handle(writer, { type: 'state_watch', id: 'w1', namespace: 'ns', key: 'k' })
    await state.handle(writer, { type: 'state_set', id: 's1', namespace: 'ns', key: 'k', value: 'x' })
    await expect
      .poll(() => writer.frames.map((frame) => frame.type))
      .toEqual(['reply', 'reply', 'state_change'])
    expect(writer.frames[2]).toMatchObject({
      key: 'k',
      version: 1,
      value: 'x',
      updatedBy: 'principal-writer',
    })
  })
})
