import { ConversationPage } from '@parley/protocol'
import { afterEach, describe, expect, it } from 'vitest'
import { adminCall } from './support/admin-api.js'
import { SdkFixture } from './support/sdk-agents.js'

const fixture = new SdkFixture()
afterEach(() => fixture.dispose())

async function conversation(query: string): Promise<ConversationPage> {
  const answer = await adminCall(fixture.url, 'GET', `/api/admin/conversations?${query}`)
  expect(answer.status).toBe(200)
  return ConversationPage.parse(answer.body)
}

describe('GET /api/admin/conversations', () => {
  it('matches every instance of an agent whatever its client id: replies from summarizer-b are part of it', async () => {
    await fixture.start()
    for (const clientId of ['summarizer-a', 'summarizer-b']) {
      const instance = fixture.agent({ agentId: 'summarizer', clientId, capabilities: ['summarize'] })
      instance.handle(async (data) => ({ summary: data, by: clientId }))
      await instance.connect()
    }
    const web = fixture.agent({ agentId: 'web-frontend', clientId: 'web-frontend-1', capabilities: [] })
    await web.connect()
    const answeredBy = new Set<string>()
    for (let index = 0; index < 4; index += 1) {
      const answer = (await web.request('summarizer', { index })) as { by: string }
      answeredBy.add(answer.by)
    }

    const page = await conversation('a=web-frontend&b=summarizer')
    const kinds = page.events.map((event) => `${event.kind}:${event.clientId}`)
    expect(kinds.filter((kind) => kind.startsWith('request:'))).toHaveLength(4)
    // One reply row per request, from whichever instance answered it.
    const replies = page.events.filter((event) => event.kind === 'reply')
    expect(replies).toHaveLength(4)
    expect(new Set(replies.map((event) => event.clientId))).toEqual(answeredBy)
    expect(page.parties?.b.sort()).toEqual(['summarizer', 'summarizer-a', 'summarizer-b'])
    expect(page.parties?.a.sort()).toEqual(['web-frontend', 'web-frontend-1'])
    // One instance's client id stands for its agent too.
    const byClient = await conversation('a=web-frontend-1&b=summarizer-b')
    expect(byClient.events.map((event) => event.id)).toEqual(page.events.map((event) => event.id))
  })

  it('opens at the newest rows with order=newest and pages back to older ones', async () => {
    const server = await fixture.start()
    for (let index = 0; index < 5; index += 1) {
      server.audit?.record({
        kind: 'message',
        outcome: 'ok',
        principal: index % 2 === 0 ? 'planner' : 'billing',
        target: index % 2 === 0 ? 'billing' : 'planner',
        detail: `row-${index}`,
        time: new Date(1_000 * (index + 1)),
      })
    }
    const first = await conversation('a=planner&b=billing&order=newest&limit=2')
    expect(first.events.map((event) => event.detail)).toEqual(['row-4', 'row-3'])
    const second = await conversation(`a=planner&b=billing&order=newest&limit=2&cursor=${first.nextCursor}`)
    expect(second.events.map((event) => event.detail)).toEqual(['row-2', 'row-1'])
    const oldest = await conversation('a=planner&b=billing&limit=2')
    expect(oldest.events.map((event) => event.detail)).toEqual(['row-0', 'row-1'])
    expect((await adminCall(fixture.url, 'GET', '/api/admin/conversations?a=x&b=y&order=up')).status).toBe(
      400,
    )
  })
})
