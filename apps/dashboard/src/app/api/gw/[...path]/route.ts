import { forwardToGateway } from '@/lib/gateway-proxy'

// Every `/api/gw/*` call of the browser: the endpoints of the protocol's table, nothing else (see
// `forwardToGateway`).
export const GET = forwardToGateway
export const POST = forwardToGateway
export const PUT = forwardToGateway
export const PATCH = forwardToGateway
export const DELETE = forwardToGateway
