// When a receiver owes its peer an ACK. The writer batches ACKs (one per turn of the event loop
// rather than one per read), but a receiver that keeps reading must still ACK at least every
// ACK_EVERY messages or ACK_EVERY_BYTES payload bytes: the peer keeps what it sent for replay
// until then, and its send window (messages) and out-queue limits (bytes) must not fill.
export const ACK_EVERY = 1024
export const ACK_EVERY_BYTES = 4 * 1024 * 1024

export class AckCadence {
  /** Payload bytes accepted since our last ACK. */
  private bytes = 0

  /** A message of `bytes` payload bytes was accepted. */
  accepted (bytes: number): void {
    this.bytes += bytes
  }

  /** An ACK went out. */
  sent (): void {
    this.bytes = 0
  }

  /** `unacked` messages are taken but not yet acknowledged: must the ACK go out now? */
  due (unacked: number): boolean {
    return unacked >= ACK_EVERY || this.bytes >= ACK_EVERY_BYTES
  }
}
