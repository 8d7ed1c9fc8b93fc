import { afterEach, describe, expect, it } from 'vitest'
import { dropEveryNth, startTestProxy, type TestProxy } from '../support/http-proxy.js'
import { PollingTestClient } from '../support/polling-test-client.js'
import { TestClient } from '../support/test-client.js'
import { startTestGateway, type TestGateway } from '../support/test-gateway.js'

const MESSAGES = 500
/** Every fifth recv answer is lost: 20%. */
const DROP_EVERY = 5
const ROUND = 20

describe('polling through a proxy that loses 20% of /poll/recv answers', () => {
  let server: TestGateway | undefined
  let proxy: TestProxy | undefined
  const closers: Array<() => void> = []

  afterEach(async () => {
    for (const close of closers.splice(0)) close()
    await proxy?.close()
    await server?.dispose()
    proxy = undefined
    server = undefined
  })

  it('receives every publication exactly once and in order', async () => {
    server = await startTestGateway()
    proxy = await startTestProxy(server.started.port, {
      dropResponse: dropEveryNth('/poll/recv', DROP_EVERY),
    })
    const subscriber = await PollingTestClient.connect(proxy.url, { clientId: 'lossy-subscriber' })
    closers.push(() => subscriber.close())
    await subscriber.subscribe('lossy.feed')
    const publisher = await TestClient.connect(server.started.wsUrl, { clientId: 'lossy-publisher' })
    closers.push(() => publisher.close())

    const received = () => subscriber.framesOf('channel_message')
    for (let n = 0; n < MESSAGES; n += 1) {
      publisher.send({ type: 'publish', id: `p${n}`, channel: 'lossy.feed', data: n })
      await publisher.waitFor((frame) => frame.type === 'reply' && frame.id === `p${n}`)
      // Rounds the subscriber must receive before the next: at least 25 recv answers carry messages however the
      // machine batches them, so at least 5 are lost.
      if ((n + 1) % ROUND === 0)
        await subscriber.waitUntil(() => received().length >= n + 1, 60_000, `${n + 1} messages`)
    }
    await subscriber.waitUntil(() => received().length >= MESSAGES, 60_000, `${MESSAGES} messages`)

    expect(received().map((frame) => frame.data)).toEqual(Array.from({ length: MESSAGES }, (_, n) => n))
    expect(received().map((frame) => frame.offset)).toEqual(Array.from({ length: MESSAGES }, (_, n) => n + 1))
    // The loss really happened, and was repaired by repeating the recv.
    expect(proxy.dropped).toBeGreaterThanOrEqual(5)
    expect(subscriber.lostRecvs).toBeGreaterThanOrEqual(proxy.dropped)
  })
})
