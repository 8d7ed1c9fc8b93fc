/** The value of one sample (`name{labels} value`) in the Prometheus text format; labels in written order. */
export function sample(text: string, name: string, labels: Record<string, string> = {}): number | undefined {
  const rendered = Object.entries(labels)
    .map(([key, value]) => `${key}="${value}"`)
    .join(',')
  const prefix = rendered === '' ? `${name} ` : `${name}{${rendered}} `
  const line = text.split('\n').find((candidate) => candidate.startsWith(prefix))
  return line === undefined ? undefined : Number(line.slice(prefix.length))
}
