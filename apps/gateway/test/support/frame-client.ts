import { PollingTestClient } from './polling-test-client.js'
import { TestClient } from './test-client.js'

export type TransportName = 'websocket' | 'polling'

/** The frame-level API both test clients share; a suite written against it runs over either transport. */
export type FrameClient = Pick<
  TestClient,
  | 'frames'
  | 'arrivals'
  | 'closed'
  | 'hello'
  | 'newId'
  | 'send'
  | 'request'
  | 'subscribe'
  | 'ok'
  | 'waitFor'
  | 'waitUntil'
  | 'framesOf'
  | 'next'
  | 'waitClosed'
  | 'close'
> & {
  /** Sends one text frame exactly as given (WebSocket text message, or one string of `/poll/send`). */
  sendText(text: string): void
  /** Sends text frames back to back: WebSocket messages in one turn, or the strings of a single `/poll/send`. */
  sendTexts(...texts: string[]): void
}

export interface OpenOptions {
  headers?: Record<string, string>
}

/** Where a gateway listens, as `startTestGateway` reports it. */
export interface GatewayUrls {
  url: string
  wsUrl: string
}

function withSendText(client: TestClient | PollingTestClient): FrameClient {
  return Object.assign(client, {
    sendText: (text: string) => client.sendRaw(text),
    sendTexts: (...texts: string[]) => {
      if (client instanceof PollingTestClient) client.sendRaw(...texts)
      else for (const text of texts) client.sendRaw(text)
    },
  })
}

/** Opens a connection (no `hello` yet) over the named transport. */
export async function openFrameClient(
  transport: TransportName,
  urls: GatewayUrls,
  options: OpenOptions = {},
): Promise<FrameClient> {
  if (transport === 'websocket') {
    return withSendText(
      await TestClient.open(urls.wsUrl, options.headers === undefined ? {} : { headers: options.headers }),
    )
  }
  return withSendText(
    await PollingTestClient.open(urls.url, options.headers === undefined ? {} : { headers: options.headers }),
  )
}

/** Opens a connection and completes the handshake. */
export async function connectFrameClient(
  transport: TransportName,
  urls: GatewayUrls,
  hello: { clientId?: string; token?: string } = {},
): Promise<FrameClient> {
  const client = await openFrameClient(transport, urls)
  const welcome = await client.hello(hello)
  if (welcome.type !== 'welcome') throw new Error(`handshake failed: ${JSON.stringify(welcome)}`)
  return client
}
