import { describe, expect, it, vi } from 'vitest'
import { TypedEmitter } from './typed-emitter.js'

interface Events {
  tick: number
}

describe('TypedEmitter', () => {
  it('emitAndWait resolves after every listener promise settled, with what failed', async () => {
    const emitter = new TypedEmitter<Events>(vi.fn())
    const order: string[] = []
    emitter.on('tick', async () => {
      await Promise.resolve()
      order.push('async listener done')
    })
    emitter.on('tick', () => {
      throw new Error('sync failure')
    })
    emitter.on('tick', () => Promise.reject(new Error('async failure')))

    const failures = await emitter.emitAndWait('tick', 1)
    order.push('emitAndWait resolved')

    expect(order).toEqual(['async listener done', 'emitAndWait resolved'])
    expect(failures.map((failure) => (failure as Error).message)).toEqual(['sync failure', 'async failure'])
  })

  it('emitAndWait with no listeners resolves with no failures', async () => {
    const emitter = new TypedEmitter<Events>(vi.fn())
    expect(await emitter.emitAndWait('tick', 1)).toEqual([])
  })

  it('emit reports a rejected listener promise like a throw instead of leaving it unhandled', async () => {
    const onListenerError = vi.fn()
    const emitter = new TypedEmitter<Events>(onListenerError)
    const rejection = new Error('async bug')
    emitter.on('tick', () => Promise.reject(rejection))

    emitter.emit('tick', 1)

    await vi.waitFor(() => expect(onListenerError).toHaveBeenCalledWith('tick', rejection))
  })
})
