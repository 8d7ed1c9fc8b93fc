import type { Redis } from 'ioredis'

/** What the server says about keeping data: eviction policy, AOF, RDB save points (undefined: not told). */
export interface RedisDurabilityFacts {
  maxmemoryPolicy: string | undefined
  aofEnabled: boolean | undefined
  /** `CONFIG GET save`; many managed servers refuse CONFIG, then undefined. */
  savePoints: string | undefined
}

/**
 * Why deliveries in this Redis may be lost, for the operator: eviction may delete delivery keys under
 * memory pressure, and without AOF or RDB a restart loses everything (channels then start new epochs).
 */
export function durabilityWarnings(facts: RedisDurabilityFacts): string[] {
  const warnings: string[] = []
  if (facts.maxmemoryPolicy !== undefined && facts.maxmemoryPolicy !== 'noeviction') {
    warnings.push(
      `Redis maxmemory-policy is ${facts.maxmemoryPolicy}: it may evict deliveries and history under memory pressure; use noeviction`,
    )
  }
  if (facts.aofEnabled === false && facts.savePoints !== undefined && facts.savePoints.trim() === '') {
    warnings.push(
      'Redis has neither AOF nor RDB persistence: a Redis restart loses every delivery, and channels start new epochs',
    )
  }
  return warnings
}

/** Reads the facts with INFO (and CONFIG GET save when allowed). */
export async function readDurabilityFacts(redis: Redis): Promise<RedisDurabilityFacts> {
  const info = parseInfo(await redis.info())
  let savePoints: string | undefined
  try {
    const reply = (await redis.config('GET', 'save')) as string[]
    savePoints = reply[1]
  } catch {
    // CONFIG is often disabled on managed servers; RDB is then not known here.
  }
  const aof = info.get('aof_enabled')
  return {
    maxmemoryPolicy: info.get('maxmemory_policy'),
    aofEnabled: aof === undefined ? undefined : aof === '1',
    savePoints,
  }
}

function parseInfo(text: string): Map<string, string> {
  const fields = new Map<string, string>()
  for (const line of text.split(/\r?\n/)) {
    const colon = line.indexOf(':')
    if (colon > 0 && !line.startsWith('#')) fields.set(line.slice(0, colon), line.slice(colon + 1).trim())
  }
  return fields
}
