// What a connection needs of a transport: a byte source to iterate, a batched write with an
// honest back-pressure signal, and close. TCP and the in-memory pair both provide it.

export interface SocketAddress {
  ip: string
  port: number
  /** 4 or 6 */
  family: number
}

export interface MsgrSocket {
  /** Received bytes; iterate once. Ends at EOF; throws on a socket error. */
  readonly source: AsyncIterable<Uint8Array>
  /**
   * Optional pull form of `source` (use one or the other): the next received chunk if one is
   * queued, null at EOF, undefined when nothing has arrived yet; throws the socket's error. It
   * lets a reader take what is queued without a promise per chunk.
   */
  read?: () => Uint8Array | null | undefined
  /** With read(): resolves once read() has something to return (a chunk, EOF or an error). */
  readable?: () => Promise<void>
  /**
   * Queue buffers for sending as one batch (one writev). Returns a promise when the transport's
   * buffer is above its high-water mark: the writer awaits it before writing more.
   */
  write (bufs: Uint8Array[]): Promise<void> | undefined
  /** Half-close after what is queued has been written. */
  end (): void
  /** Close now; pending reads end, pending writes are dropped. */
  destroy (err?: Error): void
  readonly local: SocketAddress
  readonly remote: SocketAddress
  readonly destroyed: boolean
  /** Bytes queued in the transport, not yet handed to the kernel (or the peer). */
  readonly writableLength: number
}
