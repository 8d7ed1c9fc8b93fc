/**
 * Liveness of the dashboard process, for container health checks and load balancers: answers without a session
 * and without calling the gateway (the gateway has its own `/health`; a dashboard whose gateway is down still
 * serves its login page and says so there).
 */
export function GET(): Response {
  return Response.json({ status: 'ok' }, { headers: { 'cache-control': 'no-store' } })
}
