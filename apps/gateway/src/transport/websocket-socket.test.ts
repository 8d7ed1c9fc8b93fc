import type { AddressInfo } from 'node:net'
import { afterEach, describe, expect, it } from 'vitest'
import { WebSocket, WebSocketServer } from 'ws'
import { WebSocketConnectionSocket } from './websocket-socket.js'

const servers: WebSocketServer[] = []

afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => new Promise((resolve) => server.close(resolve))))
})

/** A real ws server on port 0 and a real client; resolves with the client's messages once `count` arrived. */
async function sendAndReceive(frames: (string | Buffer)[], count = frames.length): Promise<string[]> {
  const server = new WebSocketServer({ port: 0, perMessageDeflate: false })
  servers.push(server)
  server.on('connection', (socket, request) => {
    new WebSocketConnectionSocket(socket, request.socket).sendBatch(frames)
  })
  const client = new WebSocket(`ws://127.0.0.1:${(server.address() as AddressInfo).port}`)
  const received: string[] = []
  return new Promise((resolve, reject) => {
    client.on('error', reject)
    client.on('message', (data, isBinary) => {
      if (isBinary) reject(new Error('a binary frame arrived'))
      received.push(data.toString())
      if (received.length === count) {
        client.close()
        resolve(received)
      }
    })
  })
}

describe('WebSocketConnectionSocket', () => {
  it('delivers a batch of frames of every length class as text messages, in order', async () => {
    const texts = [0, 1, 125, 126, 65_535, 65_536, 70_000].map((length, index) =>
      String.fromCharCode(97 + index).repeat(length),
    )
    const frames = texts.map((text, index) => (index % 2 === 0 ? Buffer.from(text) : text))
    expect(await sendAndReceive(frames)).toEqual(texts)
  })

  it('sends strings as their UTF-8 bytes', async () => {
    const text = '{"data":"€ and 😀"}'
    expect(await sendAndReceive([text, Buffer.from(text)])).toEqual([text, text])
  })
})
