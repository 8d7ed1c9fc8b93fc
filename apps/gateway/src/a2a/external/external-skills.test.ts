import { AgentCard } from '@a2a-js/sdk'
import { describe, expect, it } from 'vitest'
import { isNetworkFailure, UpstreamUnreachable } from './external-calls.js'
import { cardUrlOf } from './external-card.js'
import { capabilitiesOfCard, capabilityOfSkill } from './external-skills.js'

function cardWith(skills: Array<Record<string, unknown>>) {
  return AgentCard.fromJSON({ name: 'x', supportedInterfaces: [{ url: 'http://x/' }], skills })
}

describe('external agent skills as capabilities', () => {
  it('makes each skill id a capability name: other characters become _, cut to 100, never empty', () => {
    expect(capabilityOfSkill('summarize text')).toBe('summarize_text')
    expect(capabilityOfSkill('weather/forecast:v2')).toBe('weather/forecast:v2')
    expect(capabilityOfSkill('résumé✓')).toBe('r_sum__')
    expect(capabilityOfSkill('a'.repeat(150))).toHaveLength(100)
    expect(capabilityOfSkill('')).toBe('skill')
  })

  it('keeps the fields of a skill that fit a capability description, drops the ones that do not, and each name once', () => {
    const specs = capabilitiesOfCard(
      cardWith([
        {
          id: 'translate',
          name: 'Translate',
          description: 'Translates text',
          tags: ['lang'],
          examples: ['hello in French'],
          inputModes: ['text/plain'],
          outputModes: ['text/plain'],
        },
        { id: 'translate', name: 'Second of the same id' },
        { id: 'tagged', tags: Array.from({ length: 30 }, (_, index) => `t${index}`), description: '' },
      ]),
    )
    expect(specs).toEqual([
      {
        name: 'translate',
        title: 'Translate',
        description: 'Translates text',
        tags: ['lang'],
        examples: ['hello in French'],
        inputModes: ['text/plain'],
        outputModes: ['text/plain'],
      },
      { name: 'tagged' },
    ])
  })
})

describe('external agent URLs and failures', () => {
  it('takes a .json URL as the card and any other as the base URL of /.well-known/agent-card.json', () => {
    expect(cardUrlOf('http://a.example/agents/card.json')).toBe('http://a.example/agents/card.json')
    expect(cardUrlOf('http://a.example/')).toBe('http://a.example/.well-known/agent-card.json')
    expect(cardUrlOf('http://a.example/base/')).toBe('http://a.example/base/.well-known/agent-card.json')
    expect(cardUrlOf('http://a.example/base')).toBe('http://a.example/base/.well-known/agent-card.json')
  })

  it('tells a network failure (also in a cause) from an agent error', () => {
    const refused = Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' })
    expect(isNetworkFailure(new TypeError('fetch failed', { cause: refused }))).toBe(true)
    expect(isNetworkFailure(new Error('wrapped', { cause: new UpstreamUnreachable('down') }))).toBe(true)
    expect(isNetworkFailure(new TypeError('terminated'))).toBe(true)
    expect(isNetworkFailure(new Error('Task not found'))).toBe(false)
    expect(isNetworkFailure('ECONNREFUSED')).toBe(false)
  })
})
