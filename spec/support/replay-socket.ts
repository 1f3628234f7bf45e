// A MsgrSocket that plays back one direction of a recorded conversation and records what we
// write: lets a test drive a real Connection against real Ceph bytes, deterministically.
import type { MsgrSocket, SocketAddress } from '../../lib/messenger/socket.ts'

export class ReplaySocket implements MsgrSocket {
  readonly written: Uint8Array[] = []
  readonly local: SocketAddress
  readonly remote: SocketAddress
  destroyed = false
  private readonly replay: Uint8Array
  private wake: (() => void) | undefined

  constructor (replay: Uint8Array, local: SocketAddress, remote: SocketAddress) {
    this.replay = replay
    this.local = local
    this.remote = remote
  }

  get source (): AsyncIterable<Uint8Array> {
    return { [Symbol.asyncIterator]: () => this.play() }
  }

  private async * play (): AsyncGenerator<Uint8Array> {
    // Irregular chunks, as TCP would deliver them.
    let at = 0
    const sizes = [7, 100, 3, 250, 1, 64]
    let i = 0
    while (at < this.replay.length && !this.destroyed) {
      const n = sizes[i++ % sizes.length]
      yield this.replay.subarray(at, at + n)
      at += n
    }
    // Then stay open until the test closes us.
    while (!this.destroyed) await new Promise<void>((resolve) => { this.wake = resolve })
  }

  write (bufs: Uint8Array[]): undefined {
    for (const b of bufs) this.written.push(b.slice())
    return undefined
  }

  /** Everything written so far, as one buffer. */
  get bytes (): Uint8Array {
    return Buffer.concat(this.written)
  }

  end (): void { this.destroy() }
  destroy (): void {
    this.destroyed = true
    this.wake?.()
  }

  get writableLength (): number { return 0 }
}
