// A connection's life over its sockets: dial or take an accepted socket, run the protocol's
// handshake, run reader, writer and ticker while the session is open, and after each fault
// carry out decideFault's verdict (close, wait, standby, reconnect after a backoff).
import { MessengerError, MessengerErrorCode, errorCode } from '../../protocol/errors.ts'
import { decideFault } from '../../protocol/fault.ts'
import type { FaultKind, FaultPhase } from '../../protocol/fault.ts'
import type { TickDecision } from '../../protocol/tick.ts'
import type { DecoderConfig, PendingOpen, WriterFactory } from '../../protocol/wire-protocol.ts'
import { formatEntityAddr, isBlankIp } from '../../wire/entity-addr.ts'
import type { Connection, ConnectionState } from '../connection.ts'
import { FrameReader } from '../frame-reader.ts'
import { Signal } from '../signal.ts'
import type { MsgrSocket } from '../socket.ts'
import { FaultInjector, failSocket, localFault } from './fault-injection.ts'
import { driveHandshake, unexpectedFrame } from './handshake-driver.ts'
import type { HandshakeIo } from './handshake-driver.ts'
import { Reader } from './reader.ts'
import type { ReaderHost } from './reader.ts'
import { Ticker } from './ticker.ts'
import { Writer } from './writer.ts'
import type { WriterHost } from './writer.ts'

interface Adopted {
  sock: MsgrSocket
  reader: FrameReader
  pending: PendingOpen
  reset: boolean
}

/** The server answered WAIT: it is connecting to us and its connection will win the race. */
export class WaitSignal extends Error {
  override readonly name = 'WaitSignal'
  readonly code = 'WAIT'
  constructor () { super('peer replied WAIT (connection race)') }
}

function faultKind (err: unknown): FaultKind {
  if (err instanceof WaitSignal) return 'wait'
  if (err instanceof MessengerError && err.code === MessengerErrorCode.REFUSED) return 'refused'
  return 'error'
}

export class LifeLoop {
  private readonly conn: Connection
  readonly writer = new Writer()
  private readonly reader = new Reader()
  private readonly ticker: Ticker
  private readonly injector: FaultInjector
  /** Wakes the loop (standby, wait, or a socket handed over by the accepter). */
  private readonly wake = new Signal()
  private adoptQueue: Adopted[] = []
  /** The open socket's own writer, when its protocol keeps per-socket framing state (v2). */
  private writerFactory: WriterFactory | undefined
  private sock: MsgrSocket | undefined
  private dialAbort: AbortController | undefined
  private backoffMs = 0
  private pendingBackoff = 0
  private running: Promise<void> | undefined

  constructor (conn: Connection) {
    this.conn = conn
    const cfg = conn.host.config
    this.ticker = new Ticker(cfg.timers)
    this.injector = new FaultInjector(cfg.injectSocketFailures, cfg.random, conn.counters)
  }

  start (): void {
    if (this.running !== undefined) return
    this.running = this.run().catch((e) => {
      // run() handles its own faults; anything here is a bug — close rather than crash.
      this.conn.host.log.error('ms', 'connection loop failed', { conn: this.conn.id, err: String(e) })
      this.conn.shutdown()
    })
  }

  /** A message was queued: wake the writer, and a standby client reconnects. */
  sent (): void {
    const conn = this.conn
    if (conn.state === 'standby' && !conn.policy.server) {
      // A standby connection reconnects on the next send (connect_seq unchanged, as Ceph's
      // send_message → _connect does; only a fault's reconnect bumps it).
      conn.state = 'connecting'
      conn.counters.reconnects++
      this.wake.notify()
    }
    this.writer.notify()
  }

  /** The connection closed: stop everything it runs. */
  stop (): void {
    this.ticker.stop()
    this.sock?.destroy()
    this.dialAbort?.abort(new MessengerError(MessengerErrorCode.CLOSED, 'marked down while connecting'))
    for (const a of this.adoptQueue) a.sock.destroy()
    this.adoptQueue = []
    this.wake.notify()
    this.writer.notify()
  }

  adopt (a: Adopted): void {
    this.adoptQueue.push(a)
    // Whatever this connection is doing with its current socket ends now.
    this.sock?.destroy()
    this.wake.notify()
    this.start()
  }

  countFault (err: unknown): void {
    const conn = this.conn
    conn.lastError = err
    conn.counters.faults++
    conn.host.log.debug('ms', 'fault', { conn: conn.id, peer: formatEntityAddr(conn.peerAddr), code: errorCode(err), err: String((err as Error)?.message ?? err) })
  }

  private get closed (): boolean {
    return this.conn.state === 'closed'
  }

  private async run (): Promise<void> {
    const conn = this.conn
    const cfg = conn.host.config
    while (!this.closed) {
      const adopted = this.adoptQueue.shift()
      if (adopted !== undefined) {
        // Only the newest handed-over socket matters.
        for (const a of this.adoptQueue) a.sock.destroy()
        this.adoptQueue = []
        let err: unknown
        try {
          await this.serverOpen(adopted)
          err = await this.runOpen(adopted.sock, adopted.reader)
        } catch (e) {
          err = localFault(adopted.sock) ?? e
          adopted.sock.destroy()
        }
        this.afterFault('open', err)
        continue
      }
      const state: ConnectionState = conn.state
      if (state === 'standby' || state === 'accepting' || (conn.policy.server && state !== 'connecting')) {
        const w = this.wake.wait()
        if (w !== undefined) await w
        continue
      }
      if (state === 'wait') {
        await this.sleep(cfg.maxBackoffMs)
        if (conn.state === 'wait') conn.state = 'connecting'
        continue
      }
      // connecting: after a failed attempt, back off first. (Sleeping after the dial instead would
      // hold a connected socket silent past the peer's handshake timeout, and a refused dial
      // would be retried at once.)
      if (this.pendingBackoff > 0) {
        const ms = this.pendingBackoff
        this.pendingBackoff = 0
        await this.sleep(ms)
        continue
      }
      let sock: MsgrSocket | undefined
      let opened = false
      try {
        sock = await this.dialWithTimeout()
        if (this.closed || this.adoptQueue.length > 0) { sock.destroy(); continue }
        this.sock = sock
        const reader = await this.clientHandshake(sock)
        opened = true
        this.afterFault('open', await this.runOpen(sock, reader))
      } catch (e) {
        sock?.destroy()
        const err = (sock === undefined ? undefined : localFault(sock)) ?? e
        this.afterFault(opened ? 'open' : 'handshake', err)
      }
    }
  }

  /** Dial the peer, bounded by the handshake timeout and cancelled by markDown. */
  private async dialWithTimeout (): Promise<MsgrSocket> {
    const conn = this.conn
    const cfg = conn.host.config
    const ac = new AbortController()
    this.dialAbort = ac
    let timer: unknown
    if (cfg.handshakeTimeoutMs > 0) {
      timer = cfg.timers.setTimeout(() => { ac.abort(new MessengerError(MessengerErrorCode.HANDSHAKE_TIMEOUT, `connect to ${formatEntityAddr(conn.peerAddr)} timed out`)) }, cfg.handshakeTimeoutMs)
    }
    try {
      return await conn.host.dial(conn.peerAddr, ac.signal)
    } finally {
      if (timer !== undefined) cfg.timers.clearTimeout(timer)
      this.dialAbort = undefined
    }
  }

  private sleep (ms: number): Promise<void> {
    const timers = this.conn.host.config.timers
    return new Promise((resolve) => {
      // A lossless session with messages owed keeps the process alive while it backs off.
      const owed = !this.conn.session.lossy && this.conn.session.pending > 0
      const t = timers.setTimeout(() => { this.wake.notify() }, ms, owed)
      const w = this.wake.wait()
      if (w === undefined) { timers.clearTimeout(t); resolve(); return }
      void w.then(() => { timers.clearTimeout(t); resolve() })
    })
  }

  /** Carry out decideFault's verdict on a failure of the handshake or of the open session. */
  private afterFault (phase: FaultPhase, err: unknown): void {
    const conn = this.conn
    if (phase === 'open') this.ticker.stop()
    this.sock = undefined
    if (this.closed) return
    const cfg = conn.host.config
    const d = decideFault({
      phase,
      kind: faultKind(err),
      policy: conn.policy,
      lossy: conn.session.lossy,
      replaced: this.adoptQueue.length > 0,
      // Nothing queued and nothing unacknowledged (which a reconnect would resend).
      idle: conn.session.pending === 0 && !this.writer.keepaliveOwed,
      canDial: conn.outgoing || (conn.peerAddr.port !== 0 && !isBlankIp(conn.peerAddr)),
      backoffMs: this.backoffMs,
      initialBackoffMs: cfg.initialBackoffMs,
      maxBackoffMs: cfg.maxBackoffMs
    })
    if (d.action === 'replaced') {
      // Replaced by a newer socket from the same peer: not a fault of the session.
      if (phase === 'open') conn.session.requeueSent()
      return
    }
    this.countFault(err)
    switch (d.action) {
      case 'close':
        conn.shutdown(d.event)
        return
      case 'wait':
        conn.state = 'wait'
        return
      case 'standby':
        conn.session.requeueSent()
        conn.notifyDrain()
        conn.state = 'standby'
        return
      case 'reconnect':
        conn.session.requeueSent()
        if (d.bumpConnectSeq) {
          conn.notifyDrain()
          conn.session.faultReconnect()
          conn.counters.reconnects++
        } else {
          this.backoffMs = d.backoffMs
          this.pendingBackoff = d.backoffMs
        }
        conn.state = 'connecting'
    }
  }

  private decoderConfig (): DecoderConfig {
    return this.conn.host.decoderConfig(this.conn.policy.featuresSupported)
  }

  private handshakeIo (sock: MsgrSocket, reader: FrameReader): HandshakeIo {
    const conn = this.conn
    return {
      config: conn.host.config,
      log: conn.host.log,
      sock,
      reader,
      who: { peer: conn.peerAddr, connectionId: conn.id },
      unexpected: unexpectedFrame,
      write: (bufs) => { void this.write(sock, bufs) },
      sleep: (ms) => this.sleep(ms),
      learnAddr: (a) => { conn.host.learnAddr(a) },
      remoteReset: (dropped) => {
        conn.counters.droppedOnClose += dropped
        conn.host.onEvent('remoteReset', conn)
      }
    }
  }

  private async clientHandshake (sock: MsgrSocket): Promise<FrameReader> {
    const conn = this.conn
    const host = conn.host
    const { source, handshake, writer } = conn.protocol.client({
      session: conn.session,
      policy: conn.policy,
      peerAddr: conn.peerAddr,
      peerType: conn.peerType,
      myType: host.name.type,
      myAddr: () => host.myAddr,
      nextGlobalSeq: (atLeast) => host.nextGlobalSeq(atLeast),
      protocolVersion: host.protocolVersion(conn.peerType, true),
      authorizer: host.authorizerFor(conn.peerType),
      internalDelayMs: host.config.injectInternalDelays * 1000
    }, this.decoderConfig())
    const reader = new FrameReader(sock, source)
    this.watchReads(reader)
    this.writer.setTail(undefined)
    const r = await driveHandshake(handshake, this.handshakeIo(sock, reader))
    if (r.kind === 'wait') throw new WaitSignal()
    conn.policy = r.policy
    conn.features = r.features
    if (r.peerName !== undefined) conn.peerName = r.peerName
    this.writerFactory = writer
    this.writer.setTail(r.tail)
    this.backoffMs = 0
    host.onEvent('connect', conn)
    return reader
  }

  /** The server's last handshake steps, on the session that took the socket over. */
  private async serverOpen (a: Adopted): Promise<void> {
    const conn = this.conn
    const host = conn.host
    conn.replacing = false
    this.sock = a.sock
    this.watchReads(a.reader)
    this.writer.setTail(undefined)
    const hs = a.pending.open({
      session: conn.session,
      policy: conn.policy,
      nextGlobalSeq: () => host.nextGlobalSeq(),
      protocolVersion: host.protocolVersion(conn.peerType, false)
    }, a.reset)
    const r = await driveHandshake(hs, this.handshakeIo(a.sock, a.reader))
    conn.features = r.features
    this.writerFactory = a.pending.writer
    host.onEvent('accept', conn)
  }

  /** Count each read, and maybe inject a failure. */
  private watchReads (reader: FrameReader): void {
    const conn = this.conn
    const c = conn.counters
    const timers = conn.host.config.timers
    const injector = this.injector
    reader.onChunk = (chunk) => {
      c.wireBytesIn += chunk.length
      c.reads++
      conn.lastRx = timers.now()
      if (injector.enabled) injector.maybeFail(this.sock)
    }
  }

  private write (sock: MsgrSocket, bufs: Uint8Array[]): Promise<void> | undefined {
    const conn = this.conn
    if (this.injector.enabled) this.injector.maybeFail(sock)
    let n = 0
    for (const b of bufs) n += b.length
    conn.counters.wireBytesOut += n
    conn.counters.writes++
    conn.lastTx = conn.host.config.timers.now()
    return sock.write(bufs)
  }

  /** Run reader and writer on an open socket; resolves with what ended it. */
  private async runOpen (sock: MsgrSocket, reader: FrameReader): Promise<unknown> {
    const conn = this.conn
    if (this.closed) { sock.destroy(); return new MessengerError(MessengerErrorCode.CLOSED, 'closed') }
    const cfg = conn.host.config
    this.sock = sock
    conn.state = 'open'
    conn.lastRx = conn.lastTx = cfg.timers.now()
    this.ticker.start({ config: cfg, activity: () => this.activity(), act: (d) => { this.tick(d) } }, conn.session.lossy)
    this.writer.notify()
    let ended: unknown
    const stop = (err: unknown): void => {
      if (ended === undefined) ended = err ?? new MessengerError(MessengerErrorCode.PEER_CLOSED, 'closed')
      sock.destroy()
      this.writer.notify()
    }
    const crc = { crcHeader: cfg.crcHeader, crcData: cfg.crcData }
    const sw = this.writerFactory !== undefined ? this.writerFactory(conn.features, crc) : conn.protocol.writer(conn.features, crc)
    const rd = this.reader.run(this.readerHost(), sock, reader).then(stop, stop)
    const wr = this.writer.run(this.writerHost(), sock, sw).then(stop, stop)
    await Promise.all([rd, wr])
    await reader.close()
    return localFault(sock) ?? ended
  }

  private readerHost (): ReaderHost {
    const conn = this.conn
    return {
      session: conn.session,
      counters: conn.counters,
      throttle: conn.throttle,
      writer: this.writer,
      get peerType () { return conn.peerType },
      reading: (sock) => this.sock === sock && !this.closed,
      isClosed: () => this.closed,
      setPeerName: (n) => { conn.peerName = n },
      keepaliveAcked: (st) => { conn.lastKeepaliveAck = st },
      notifyDrain: () => { conn.notifyDrain() },
      self: conn,
      deliver: (m) => { conn.host.onMessage(conn, m) }
    }
  }

  private writerHost (): WriterHost {
    const conn = this.conn
    return {
      config: conn.host.config,
      name: conn.host.name,
      session: conn.session,
      counters: conn.counters,
      features: conn.features,
      writing: (sock) => this.sock === sock && !sock.destroyed && conn.state === 'open',
      write: (sock, bufs) => this.write(sock, bufs),
      belowHighWater: () => conn.belowHighWater(),
      notifyDrain: () => { conn.notifyDrain() }
    }
  }

  private activity (): { lastRx: number, lastTx: number, lossy: boolean } | undefined {
    const conn = this.conn
    return conn.state === 'open' ? { lastRx: conn.lastRx, lastTx: conn.lastTx, lossy: conn.session.lossy } : undefined
  }

  private tick (d: TickDecision): void {
    const conn = this.conn
    switch (d.action) {
      case 'keepalive-timeout':
        if (this.sock !== undefined) failSocket(this.sock, new MessengerError(MessengerErrorCode.KEEPALIVE_TIMEOUT, `nothing from the peer for ${d.silentMs} ms`))
        return
      case 'idle':
        // Ceph's tick "marks self fault": a lossy session is reset, with the reason recorded.
        this.countFault(new MessengerError(MessengerErrorCode.IDLE_TIMEOUT, `idle for ${d.idleMs} ms`))
        conn.shutdown('reset')
        return
      case 'keepalive':
        this.writer.requestKeepalive()
    }
  }
}
