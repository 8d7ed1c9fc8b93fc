/**
 * The storm scenario's baseline: Socket.IO 4 with connection state recovery
 * (https://socket.io/docs/v4/connection-state-recovery), a room per channel. `subscribe` joins the room;
 * `publish` is a room broadcast (`io.to(channel).emit`), which the recovery-aware adapter numbers and keeps
 * for `maxDisconnectionDuration`, acknowledged to the publisher. A client that comes back within that time
 * with its session id and last offset gets its rooms back and the broadcasts it missed (`socket.recovered`);
 * otherwise it starts a new session and must subscribe again. Nothing is stored outside this process.
 */
import { onSocketIoEvents, socketIoBaseline } from './baseline-server.js'

/** Socket.IO's documented defaults, spelled out: two minutes, and middlewares skipped on recovery. */
const RECOVERY = { maxDisconnectionDuration: 2 * 60_000, skipMiddlewares: true }

// Socket.IO's default heartbeat (not the other baselines' long one), as the gateway's in this scenario.
const { io, listen } = socketIoBaseline({
  connectionStateRecovery: RECOVERY,
  pingInterval: 25_000,
  pingTimeout: 20_000,
})

io.on('connection', (socket) => {
  // A broadcast without an ack callback: the recovery-aware adapter numbers it and keeps it for the missed.
  onSocketIoEvents(socket, (channel, data) => {
    io.to(channel).emit('message', data)
    return { channel }
  })
})

listen()
