/**
 * The cross-node baselines read their Redis settings from the environment (not argv, where a password in
 * the URL would show in `ps`): `BENCH_REDIS_URL`, a key / channel prefix unique to the run and this node's
 * id. Absent `BENCH_REDIS_URL`, a baseline is the single-node server of the fan-out scenario.
 */
export interface ClusterEnv {
  redisUrl: string
  prefix: string
  nodeId: string
}

export function clusterFromEnv(): ClusterEnv | undefined {
  const redisUrl = process.env.BENCH_REDIS_URL
  if (redisUrl === undefined || redisUrl === '') return undefined
  const prefix = process.env.BENCH_REDIS_PREFIX
  const nodeId = process.env.BENCH_NODE_ID
  if (!prefix || !nodeId) {
    process.stderr.write('BENCH_REDIS_URL needs BENCH_REDIS_PREFIX and BENCH_NODE_ID\n')
    process.exit(2)
  }
  return { redisUrl, prefix, nodeId }
}
