import type { AgentCard, AgentSkill } from '@a2a-js/sdk'
import { CapabilityInfo, type CapabilitySpec } from '@parley/protocol'

const MAX_CAPABILITY_LENGTH = 100

/**
 * A skill id as a Parley capability: characters outside letters, digits and `_ - . : /` become `_`, cut to 100
 * characters; an id with nothing left is `skill`.
 */
export function capabilityOfSkill(skillId: string): string {
  const name = skillId.replace(/[^A-Za-z0-9_\-.:/]/g, '_').slice(0, MAX_CAPABILITY_LENGTH)
  return name.length === 0 ? 'skill' : name
}

/** The skill's description in Parley's form, each field kept only when it fits `CapabilityInfo`. */
function infoOf(skill: AgentSkill): Omit<CapabilityInfo, 'name'> {
  const candidates: Record<string, unknown> = {
    title: skill.name || undefined,
    description: skill.description || undefined,
    tags: skill.tags.length > 0 ? skill.tags : undefined,
    examples: skill.examples.length > 0 ? skill.examples : undefined,
    inputModes: skill.inputModes.length > 0 ? skill.inputModes : undefined,
    outputModes: skill.outputModes.length > 0 ? skill.outputModes : undefined,
  }
  const info: Record<string, unknown> = {}
  for (const [field, value] of Object.entries(candidates)) {
    if (value === undefined) continue
    // A card is someone else's document: a field out of Parley's bounds is dropped, not the whole skill.
    if (CapabilityInfo.safeParse({ [field]: value }).success) info[field] = value
  }
  return info as Omit<CapabilityInfo, 'name'>
}

/** The card's skills as capabilities, each name once (the first skill of a name wins). */
export function capabilitiesOfCard(card: AgentCard): CapabilitySpec[] {
  const seen = new Set<string>()
  const specs: CapabilitySpec[] = []
  for (const skill of card.skills) {
    const name = capabilityOfSkill(skill.id)
    if (seen.has(name)) continue
    seen.add(name)
    specs.push({ name, ...infoOf(skill) })
  }
  return specs
}
