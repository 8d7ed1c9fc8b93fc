/**
 * `"Ana" (telegram 48213377)`: a chat sender in the Pairing page's notices and confirmations. The name
 * is quoted so an empty or odd one (spaces, markup) reads as a value; React renders it as text.
 */
export function senderLabel(sender: {
  channelType: string
  senderId: string
  displayName: string | null
}): string {
  const where = `${sender.channelType} ${sender.senderId}`
  const name = sender.displayName?.trim()
  return name === undefined || name === '' ? where : `${JSON.stringify(name)} (${where})`
}
