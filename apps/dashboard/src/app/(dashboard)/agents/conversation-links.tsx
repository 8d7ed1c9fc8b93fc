import { conversationHref } from '@/lib/agents'

/**
 * "Conversation with…" on an agent's row: a link per other agent that opens the conversation with both sides
 * filled, and one that fills only this agent for a party that is not an agent (a client, a principal).
 */
export function ConversationLinks({ agentId, others }: { agentId: string; others: readonly string[] }) {
  return (
    <details className="conversation-links" data-testid="agent-conversation-links">
      <summary data-testid="agent-conversation-link">Conversation with…</summary>
      <ul className="plain-list">
        {others.map((other) => (
          <li key={other}>
            <a
              href={conversationHref(agentId, other)}
              data-testid="agent-conversation-peer"
              data-peer={other}
            >
              {other}
            </a>
          </li>
        ))}
        <li>
          <a href={conversationHref(agentId)} data-testid="agent-conversation-other">
            someone else…
          </a>
        </li>
      </ul>
    </details>
  )
}
