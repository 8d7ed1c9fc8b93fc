/**
 * Preloaded (`--import`) into every server process the bench spawns, the gateway included: when the
 * bench dies, even by SIGKILL, its IPC channel closes and the server exits instead of lingering as an
 * orphan holding a port.
 */
if (process.send !== undefined) {
  process.on('disconnect', () => process.exit(0))
}
