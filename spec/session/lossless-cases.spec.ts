// Session cases after Ceph's own messenger tests (src/test/msgr/test_msgr.cc): ReconnectTest,
// ReconnectRaceTest, ConnectionRaceTest, ClientStandby, StatefulServer / losslessClient,
// StatelessServer + lossyClient against a dead server, FeatureTest and the idle timeout. Every
// case runs over the in-memory and the TCP messenger. Races are made deterministic with the
// messenger's interceptor (hold a handshake at a named step, release it when the test says);
// socket faults are injected by destroying (or stalling) the sockets a messenger dialled or
// accepted. Nothing sleeps to wait for an event: only where time itself is the subject (standby
// must stay idle, keepalive and idle timeouts) does a case let a short configured period pass.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { Connection } from '../../lib/messenger/connection.ts'
import type { InterceptAction, InterceptInfo, Interceptor, InterceptStep } from '../../lib/protocol/intercept.ts'
import { MemoryMessenger } from '../../lib/messenger/memory-messenger.ts'
import type { Messenger, MessengerOptions } from '../../lib/messenger/messenger.ts'
import type { MsgrSocket, SocketAddress } from '../../lib/messenger/socket.ts'
import type { WireProtocol } from '../../lib/protocol/wire-protocol.ts'
import { TcpMessenger } from '../../lib/messenger/tcp-messenger.ts'
import { Policy } from '../../lib/session/policy.ts'
import { EntityType } from '../../lib/wire/constants.ts'
import type { EntityAddr } from '../../lib/wire/entity-addr.ts'
import { DEFAULT_FEATURES_REQUIRED, DEFAULT_FEATURES_SUPPORTED, Feature } from '../../lib/wire/features.ts'
import { connOf, deferred, Harness, Latch, numbered, T_DATA, within } from '../messenger/conformance/harness.ts'
import type { AfterHook, Deferred, MessengerType } from '../messenger/conformance/harness.ts'

const TYPES: MessengerType[] = ['memory', 'tcp']

// ---- sockets a test can break ---------------------------------------------------------------

/**
 * A transport socket the test can fault (destroy) or stall: a stalled socket reads nothing more
 * and silently drops what is written to it, like a peer process that stopped (SIGSTOP).
 */
class TappedSocket implements MsgrSocket {
  readonly inner: MsgrSocket
  private stalled = false
  private readonly gone: Deferred<void> = deferred()
  readonly source: AsyncIterable<Uint8Array>

  constructor (inner: MsgrSocket) {
    this.inner = inner
    const isStalled = (): boolean => this.stalled
    const gone = this.gone.promise
    this.source = {
      [Symbol.asyncIterator]: async function * () {
        for await (const chunk of inner.source) {
          if (isStalled()) await gone
          if (inner.destroyed) return
          yield chunk
        }
      }
    }
  }

  stall (): void { this.stalled = true }
  write (bufs: Uint8Array[]): Promise<void> | undefined { return this.stalled ? undefined : this.inner.write(bufs) }
  end (): void { this.inner.end() }
  destroy (err?: Error): void {
    this.inner.destroy(err)
    this.gone.resolve()
  }

  get local (): SocketAddress { return this.inner.local }
  get remote (): SocketAddress { return this.inner.remote }
  get destroyed (): boolean { return this.inner.destroyed }
  get writableLength (): number { return this.inner.writableLength }
}

interface Tapped {
  readonly sockets: TappedSocket[]
}

class TappedMemory extends MemoryMessenger implements Tapped {
  readonly sockets: TappedSocket[] = []
  protected override async dialSocket (addr: EntityAddr): Promise<MsgrSocket> {
    return tap(this, await super.dialSocket(addr))
  }

  protected override accept (sock: MsgrSocket, protocol: WireProtocol, local: EntityAddr): void { super.accept(tap(this, sock), protocol, local) }
}

class TappedTcp extends TcpMessenger implements Tapped {
  readonly sockets: TappedSocket[] = []
  protected override async dialSocket (addr: EntityAddr, signal?: AbortSignal): Promise<MsgrSocket> {
    return tap(this, await super.dialSocket(addr, signal))
  }

  protected override accept (sock: MsgrSocket, protocol: WireProtocol, local: EntityAddr): void { super.accept(tap(this, sock), protocol, local) }
}

type TappedMessenger = Messenger & Tapped

function tap (m: Tapped, sock: MsgrSocket): TappedSocket {
  const s = new TappedSocket(sock)
  m.sockets.push(s)
  return s
}

/** Destroy every live socket of a messenger (a network fault on its side). Returns how many. */
function faultSockets (m: Tapped): number {
  let n = 0
  for (const s of m.sockets) {
    if (!s.destroyed) { s.destroy(); n++ }
  }
  return n
}

function tapped (h: Harness, opts: Omit<MessengerOptions, 'type'>): TappedMessenger {
  const m = h.type === 'memory' ? new TappedMemory(opts) : new TappedTcp(opts)
  h.messengers.push(m)
  return m
}

async function tappedServer (h: Harness, opts: Omit<MessengerOptions, 'type'>): Promise<{ msgr: TappedMessenger, addr: EntityAddr }> {
  const msgr = tapped(h, opts)
  const addr = await msgr.bind('v1:127.0.0.1:0')
  msgr.start()
  return { msgr, addr }
}

function tappedClient (h: Harness, opts: Omit<MessengerOptions, 'type'>): TappedMessenger {
  const msgr = tapped(h, opts)
  msgr.start()
  return msgr
}

// ---- interceptor ----------------------------------------------------------------------------

interface Seen { step: InterceptStep, info: InterceptInfo }
type Hook = (step: InterceptStep, info: InterceptInfo, seen: Seen[]) => InterceptAction | Promise<InterceptAction> | undefined

/** Records every step it is asked about; `hook` may pause ("return a promise") or fail one. */
class Script implements Interceptor {
  readonly seen: Seen[] = []
  hook: Hook | undefined
  private waiters: Array<{ pred: (s: Seen) => boolean, resolve: (s: Seen) => void }> = []

  readonly intercept = (step: InterceptStep, info: InterceptInfo): InterceptAction | Promise<InterceptAction> => {
    const s = { step, info }
    this.seen.push(s)
    const ready = this.waiters.filter((w) => w.pred(s))
    this.waiters = this.waiters.filter((w) => !w.pred(s))
    for (const w of ready) w.resolve(s)
    return this.hook?.(step, info, this.seen) ?? 'continue'
  }

  /** Resolves when a step matching `pred` is (or was) reached. */
  reached (pred: (s: Seen) => boolean): Promise<Seen> {
    const s = this.seen.find(pred)
    if (s !== undefined) return Promise.resolve(s)
    return new Promise((resolve) => { this.waiters.push({ pred, resolve }) })
  }

  count (pred: (s: Seen) => boolean): number {
    return this.seen.filter(pred).length
  }
}

// ---- helpers --------------------------------------------------------------------------------

/** Collects the tids of T_DATA messages a messenger dispatches. */
function collect (m: Messenger): { got: number[], latch: Latch, conns: Set<Connection> } {
  const got: number[] = []
  const latch = new Latch()
  const conns = new Set<Connection>()
  m.addDispatcherTail({
    msDispatch: (msg) => {
      if (msg.type !== T_DATA) return false
      got.push(msg.tid)
      conns.add(connOf(msg))
      latch.inc()
      return true
    }
  })
  return { got, latch, conns }
}

function range (from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i)
}

function sendRange (conn: Connection, from: number, to: number): void {
  for (let i = from; i < to; i++) conn.send(numbered(i))
}

/**
 * For conditions no event announces (a connection's state): check after every turn of the event
 * loop, fail with a message after `ms`.
 */
async function until (pred: () => boolean, what: string, ms = 10_000): Promise<void> {
  const t0 = performance.now()
  while (!pred()) {
    if (performance.now() - t0 > ms) throw new Error(`stalled: ${what} not true within ${ms} ms`)
    await new Promise((resolve) => { setTimeout(resolve, 1) })
  }
}

/** Let `ms` pass: only where time is what a case tests (nothing must happen meanwhile). */
function elapse (ms: number): Promise<void> {
  return new Promise((resolve) => { setTimeout(resolve, ms) })
}

function codeOf (e: unknown): string | undefined {
  return (e as { code?: string } | undefined)?.code
}

function num (v: unknown): number {
  return v as number
}

// ---- the cases ------------------------------------------------------------------------------

for (const type of TYPES) {
  describe(`lossless session cases over ${type}`, { concurrency: false }, () => {
    it('ReconnectTest: lossless_peer session survives a server-side socket fault; exactly once, in order', async (t) => {
      const h = new Harness(type, t)
      const { msgr: srv, addr } = await tappedServer(h, { name: 'osd.0', policy: Policy.losslessPeer() })
      const rx = collect(srv)
      const { msgr: cli } = await tappedServer(h, { name: 'osd.1', policy: Policy.losslessPeer(), config: { initialBackoffMs: 1, maxBackoffMs: 50 } })
      const conn = cli.connectTo(EntityType.OSD, addr)
      sendRange(conn, 0, 50)
      await within(rx.latch.until(50), 10_000, 'first 50')
      await within(conn.flushed(), 10_000, 'first 50 acknowledged')
      const cseq = conn.session.connectSeq
      assert.equal(cseq, 1)
      // 50 more are queued (not yet written) when the server's socket breaks.
      sendRange(conn, 50, 100)
      assert.equal(faultSockets(srv), 1)
      sendRange(conn, 100, 150)
      await within(rx.latch.until(150), 10_000, 'all 150')
      await within(conn.flushed(), 10_000, 'all acknowledged')
      assert.deepEqual(rx.got, range(0, 150), 'exactly once, in order')
      assert.ok(conn.session.connectSeq > cseq, `connect_seq advanced (${cseq} → ${conn.session.connectSeq})`)
      assert.ok(conn.counters.reconnects > 0)
      assert.ok(conn.counters.faults > 0)
      assert.equal(conn.isOpen, true)
      assert.equal(rx.conns.size, 1, 'one session on the server, kept across the fault')
      assert.equal(srv.connections.size, 1)
      assert.equal(cli.connections.size, 1)
      assert.equal(num(srv.perfDump().msgr_remote_resets) + num(cli.perfDump().msgr_remote_resets), 0)
    })

    it('ReconnectRace: faults while the reconnect handshake is in progress; exactly once, in order', async (t) => {
      const h = new Harness(type, t)
      const sScript = new Script()
      const cScript = new Script()
      const { msgr: srv, addr } = await tappedServer(h, { name: 'osd.0', policy: Policy.losslessPeer(), config: { interceptor: sScript } })
      const rx = collect(srv)
      const { msgr: cli } = await tappedServer(h, {
        name: 'osd.1', policy: Policy.losslessPeer(), config: { interceptor: cScript, initialBackoffMs: 1, maxBackoffMs: 50 }
      })
      const hold = deferred<InterceptAction>()
      // The client's second connect (its first reconnect) waits until the test releases it.
      cScript.hook = (step, _info, seen) => {
        if (step === 'connect:send_connect' && seen.filter((s) => s.step === 'connect:send_connect').length === 2) return hold.promise
        return undefined
      }
      const conn = cli.connectTo(EntityType.OSD, addr)
      sendRange(conn, 0, 50)
      await within(rx.latch.until(50), 10_000, 'first 50')
      sendRange(conn, 50, 100)
      assert.equal(faultSockets(cli), 1, 'the client socket breaks with 50 queued')
      await within(cScript.reached((s) => s.step === 'connect:send_connect' && cScript.count((x) => x.step === 'connect:send_connect') >= 2), 10_000, 'reconnect paused before its connect')
      // Meanwhile the server side of that reconnect breaks too, and the next replace on the
      // server fails half-way (after the decision, before the reply).
      assert.ok(faultSockets(srv) >= 1)
      let failedOpen = 0
      sScript.hook = (step) => {
        if (step === 'accept:open' && failedOpen === 0) { failedOpen++; return 'fail' }
        return undefined
      }
      sendRange(conn, 100, 150)
      hold.resolve('continue')
      await within(rx.latch.until(150), 10_000, 'all 150')
      await within(conn.flushed(), 10_000, 'all acknowledged')
      assert.deepEqual(rx.got, range(0, 150), 'exactly once, in order')
      assert.equal(failedOpen, 1)
      assert.ok(cScript.count((s) => s.step === 'connect:start') >= 4, 'first connect, paused reconnect, failed replace, good one')
      assert.ok(sScript.count((s) => s.step === 'accept:decision' && s.info.action === 'replace') >= 2)
      assert.equal(srv.connections.size, 1)
      assert.equal(rx.conns.size, 1)
      assert.equal(conn.isOpen, true)
      assert.equal(num(srv.perfDump().msgr_remote_resets) + num(cli.perfDump().msgr_remote_resets), 0)
    })

    for (const order of ['together', 'osd.0 first', 'osd.1 first'] as const) {
      it(`ConnectionRace (${order}): both peers connect at once; one session per side, one message each way, exactly once`, async (t) => {
        const h = new Harness(type, t)
        const scripts = [new Script(), new Script()]
        const atConnect = new Latch()
        const go = [deferred<InterceptAction>(), deferred<InterceptAction>()]
        scripts.forEach((s, i) => {
          // Each side's first connect waits until the test releases it.
          s.hook = (step, _info, seen) => {
            if (step !== 'connect:send_connect' || seen.filter((x) => x.step === 'connect:send_connect').length !== 1) return undefined
            atConnect.inc()
            return go[i].promise
          }
        })
        const { msgr: a, addr: aAddr } = await tappedServer(h, { name: 'osd.0', policy: Policy.losslessPeer(), config: { interceptor: scripts[0], initialBackoffMs: 10, maxBackoffMs: 100 } })
        const { msgr: b, addr: bAddr } = await tappedServer(h, { name: 'osd.1', policy: Policy.losslessPeer(), config: { interceptor: scripts[1], initialBackoffMs: 10, maxBackoffMs: 100 } })
        const rxA = collect(a)
        const rxB = collect(b)
        const ab = a.connectTo(EntityType.OSD, bAddr)
        const ba = b.connectTo(EntityType.OSD, aAddr)
        ab.send(numbered(1))
        ba.send(numbered(2))
        await within(atConnect.until(2), 10_000, 'both connects held')
        if (order === 'together') {
          go[0].resolve('continue')
          go[1].resolve('continue')
        } else {
          // One connect is released and decided by its peer before the other goes out.
          const [first, second] = order === 'osd.0 first' ? [0, 1] : [1, 0]
          go[first].resolve('continue')
          await within(scripts[second].reached((x) => x.step === 'accept:decision'), 10_000, 'first connect decided')
          go[second].resolve('continue')
        }
        await within(Promise.all([rxA.latch.until(1), rxB.latch.until(1)]), 10_000, 'one message each way')
        await within(Promise.all([ab.flushed(), ba.flushed()]), 10_000, 'both acknowledged')
        assert.deepEqual(rxB.got, [1])
        assert.deepEqual(rxA.got, [2])
        const decisions = scripts.flatMap((s) => s.seen.filter((x) => x.step === 'accept:decision').map((x) => x.info.tag ?? String(x.info.action)))
        t.diagnostic(`accept decisions: ${decisions.join(', ')}`)
        assert.ok(decisions.includes('WAIT') || decisions.includes('replace'), `a WAIT or a replace decided the race (${decisions.join(', ')})`)
        // One live session per side, the same Connection object that connectTo returned.
        assert.deepEqual([...a.connections], [ab])
        assert.deepEqual([...b.connections], [ba])
        assert.equal(ab.isOpen && ba.isOpen, true)
        assert.equal(a.connectTo(EntityType.OSD, bAddr), ab)
        assert.equal(b.connectTo(EntityType.OSD, aAddr), ba)
        assert.equal(ab.session.connectSeq, ba.session.connectSeq, 'both ends agree on connect_seq')
        // And the survivors keep working both ways.
        ab.send(numbered(3))
        ba.send(numbered(4))
        await within(Promise.all([rxA.latch.until(2), rxB.latch.until(2)]), 10_000, 'second round')
        assert.deepEqual(rxB.got, [1, 3])
        assert.deepEqual(rxA.got, [2, 4])
        assert.equal(num(a.perfDump().msgr_remote_resets) + num(b.perfDump().msgr_remote_resets), 0)
      })
    }

    it('ClientStandby: an idle lossless_peer goes to standby after a fault, stays idle, reconnects on the next send', async (t) => {
      const h = new Harness(type, t)
      const { msgr: srv, addr } = await tappedServer(h, { name: 'osd.0', policy: Policy.losslessPeer() })
      const rx = collect(srv)
      const cli = tappedClient(h, { name: 'osd.1', policy: Policy.losslessPeer(), config: { initialBackoffMs: 5, maxBackoffMs: 20 } })
      const conn = cli.connectTo(EntityType.OSD, addr)
      sendRange(conn, 0, 10)
      await within(rx.latch.until(10), 10_000, 'first 10')
      await within(conn.flushed(), 10_000, 'acknowledged')
      faultSockets(srv)
      await until(() => conn.state === 'standby', 'client in standby')
      const before = { faults: conn.counters.faults, reconnects: conn.counters.reconnects, accepted: num(srv.perfDump().msgr_accepted), sockets: cli.sockets.length }
      assert.equal(before.faults, 1)
      // Several backoff periods pass: nothing to send, so no reconnect attempt.
      await elapse(100)
      assert.equal(conn.state, 'standby')
      assert.deepEqual({ faults: conn.counters.faults, reconnects: conn.counters.reconnects, accepted: num(srv.perfDump().msgr_accepted), sockets: cli.sockets.length }, before)
      sendRange(conn, 10, 20)
      await within(rx.latch.until(20), 10_000, 'sent after standby')
      await within(conn.flushed(), 10_000, 'acknowledged')
      assert.deepEqual(rx.got, range(0, 20))
      assert.equal(conn.state, 'open')
      assert.equal(cli.sockets.length, before.sockets + 1, 'one new dial')
      assert.equal(conn.counters.reconnects, before.reconnects + 1, 'the wake-up counts as a reconnect')
      assert.equal(num(srv.perfDump().msgr_remote_resets) + num(cli.perfDump().msgr_remote_resets), 0)
    })

    it('StatefulServer + losslessClient: a socket fault keeps the session (no remote reset, messages resent)', async (t) => {
      const h = new Harness(type, t)
      const sScript = new Script()
      const { msgr: srv, addr } = await tappedServer(h, { name: 'osd.0', policy: Policy.statefulServer(), config: { interceptor: sScript } })
      const rx = collect(srv)
      const cli = tappedClient(h, { name: 'client.?', policy: Policy.losslessClient(), config: { initialBackoffMs: 1, maxBackoffMs: 50 } })
      const conn = cli.connectTo(EntityType.OSD, addr)
      sendRange(conn, 0, 20)
      await within(rx.latch.until(20), 10_000, 'first 20')
      sendRange(conn, 20, 40)
      faultSockets(cli)
      sendRange(conn, 40, 60)
      await within(rx.latch.until(60), 10_000, 'all 60')
      await within(conn.flushed(), 10_000, 'acknowledged')
      assert.deepEqual(rx.got, range(0, 60))
      assert.ok(conn.session.connectSeq >= 3, `reconnected with connect_seq > 0 (now ${conn.session.connectSeq})`)
      const reconnect = sScript.seen.find((s) => s.step === 'accept:decision' && (s.info.connectSeq ?? 0) > 0)
      assert.equal(reconnect?.info.action, 'replace')
      assert.equal(num(srv.perfDump().msgr_remote_resets) + num(cli.perfDump().msgr_remote_resets), 0)
      assert.equal(rx.conns.size, 1)
    })

    it('StatefulServer + losslessClient: a restarted client (connect_seq 0, same address) resets the server session', async (t) => {
      const h = new Harness(type, t)
      const sScript = new Script()
      const { msgr: srv, addr } = await tappedServer(h, { name: 'osd.0', policy: Policy.statefulServer(), config: { interceptor: sScript } })
      const rx = collect(srv)
      const remoteReset = deferred<Connection>()
      srv.addDispatcherTail({ msHandleRemoteReset: (c) => { remoteReset.resolve(c) } })
      const nonce = 0x5eed
      const cli = tappedClient(h, { name: 'client.?', nonce, policy: Policy.losslessClient() })
      const conn = cli.connectTo(EntityType.OSD, addr)
      sendRange(conn, 0, 10)
      await within(rx.latch.until(10), 10_000, 'first 10')
      await within(conn.flushed(), 10_000, 'acknowledged')
      const sconn = [...rx.conns][0]
      // The client goes away; the stateful server keeps the session (standby) and queues for it.
      cli.markDown(conn)
      await until(() => sconn.state === 'standby', 'server session in standby')
      sconn.send(numbered(999))
      assert.equal(sconn.session.connectSeq, 1)
      // The client restarts: a new messenger at the same address, connect_seq 0.
      const cli2 = tappedClient(h, { name: 'client.?', nonce, policy: Policy.losslessClient() })
      const rx2 = collect(cli2)
      const conn2 = cli2.connectTo(EntityType.OSD, addr)
      conn2.send(numbered(10))
      assert.equal(await within(remoteReset.promise, 10_000, 'server remote reset'), sconn)
      await within(rx.latch.until(11), 10_000, 'message of the new client')
      assert.deepEqual(rx.got, range(0, 11))
      const decisions = sScript.seen.filter((s) => s.step === 'accept:decision').map((s) => `${String(s.info.action)}:${String(s.info.connectSeq)}`)
      assert.deepEqual(decisions, ['open:0', 'replace:0'], 'the restart replaced the old session')
      // The reset dropped what the server had queued for the old client; the new session works.
      sconn.send(numbered(1000))
      await within(rx2.latch.until(1), 10_000, 'server → new client')
      assert.deepEqual(rx2.got, [1000])
      assert.equal(srv.connections.size, 1)
      assert.equal(num(srv.perfDump().msgr_remote_resets), 1)
      assert.equal(num(cli2.perfDump().msgr_remote_resets), 0)
    })

    it('StatelessServer + lossyClient: a server that stops answering faults the client with KEEPALIVE_TIMEOUT', async (t) => {
      const h = new Harness(type, t)
      const { msgr: srv, addr } = await tappedServer(h, { name: 'mon.0', nonce: 0, policy: Policy.statelessServer() })
      const rx = collect(srv)
      const cli = h.client({ name: 'client.?', policy: Policy.lossyClient(), config: { keepaliveIntervalMs: 100, keepaliveTimeoutMs: 400 } })
      const reset = deferred<Connection>()
      cli.addDispatcherTail({ msHandleReset: (c) => { reset.resolve(c) } })
      const conn = cli.connectTo(EntityType.MON, addr)
      conn.send(numbered(0))
      await within(rx.latch.until(1), 10_000, 'first message')
      // A live server answers keepalives: the connection outlives several timeout periods.
      await until(() => conn.counters.keepaliveAcksIn >= 6, 'keepalive acks', 5_000)
      assert.equal(conn.isOpen, true)
      // Now the server stops (reads nothing, answers nothing), its socket still up.
      for (const s of srv.sockets) s.stall()
      const t0 = performance.now()
      assert.equal(await within(reset.promise, 5_000, 'client reset'), conn)
      const dt = performance.now() - t0
      assert.equal(codeOf(conn.lastError), 'KEEPALIVE_TIMEOUT', String(conn.lastError))
      assert.ok(dt >= 300, `timed out after ${Math.round(dt)} ms`)
      assert.equal(conn.isClosed, true)
    })

    /** A lossless client and server whose features do not match: the client is refused once, nothing flows. */
    async function refusedOnFeatures (t: AfterHook, srvFeatures: MessengerOptions['features'], cliFeatures: MessengerOptions['features']): Promise<{ conn: Connection, srv: Messenger, rx: ReturnType<typeof collect> }> {
      const h = new Harness(type, t)
      const { msgr: srv, addr } = await tappedServer(h, { name: 'osd.0', policy: Policy.losslessPeer(), features: srvFeatures })
      const rx = collect(srv)
      const cli = tappedClient(h, { name: 'osd.1', policy: Policy.losslessPeer(), features: cliFeatures })
      const refused = deferred<Connection>()
      let connects = 0
      cli.addDispatcherTail({ msHandleRefused: (c) => { refused.resolve(c) }, msHandleConnect: () => { connects++ } })
      const conn = cli.connectTo(EntityType.OSD, addr)
      conn.send(numbered(0))
      assert.equal(await within(refused.promise, 10_000, 'refusal'), conn)
      assert.equal(codeOf(conn.lastError), 'REFUSED')
      assert.equal(conn.isClosed, true)
      assert.equal(conn.counters.faults, 1, 'a lossless client does not retry a refusal')
      assert.equal(connects, 0)
      assert.equal(rx.got.length, 0, 'nothing was sent to a refused peer')
      return { conn, srv, rx }
    }

    it('FeatureTest: a server requiring a bit the client lacks refuses it', async (t) => {
      const { conn, srv } = await refusedOnFeatures(t, { required: DEFAULT_FEATURES_REQUIRED | Feature.MSG_ADDR2 }, { supported: DEFAULT_FEATURES_SUPPORTED & ~Feature.MSG_ADDR2 })
      assert.match(String((conn.lastError as Error).message), /FEATURES/)
      assert.equal(srv.connections.size, 0)
    })

    it('FeatureTest: a client requiring a bit the server lacks refuses the server after its reply', async (t) => {
      const { conn } = await refusedOnFeatures(t, { supported: DEFAULT_FEATURES_SUPPORTED & ~Feature.MSG_ADDR2 }, { required: DEFAULT_FEATURES_REQUIRED | Feature.MSG_ADDR2 })
      assert.match(String((conn.lastError as Error).message), /lacks required features 0x800000000000000/)
    })

    it('idle timeout: an idle lossy connection closes itself (reset); a busy one stays open', async (t) => {
      const h = new Harness(type, t)
      const { msgr: srv, addr } = await tappedServer(h, { name: 'osd.0', policy: Policy.statelessServer() })
      const rx = collect(srv)
      const mk = (): { msgr: Messenger, reset: Deferred<Connection>, resets: number[] } => {
        const msgr = h.client({ name: 'client.?', policy: Policy.lossyClient(), config: { idleTimeoutMs: 200 } })
        const r = { msgr, reset: deferred<Connection>(), resets: [] as number[] }
        msgr.addDispatcherTail({ msHandleReset: (c) => { r.resets.push(performance.now()); r.reset.resolve(c) } })
        return r
      }
      const idle = mk()
      const busy = mk()
      const idleConn = idle.msgr.connectTo(EntityType.OSD, addr)
      const busyConn = busy.msgr.connectTo(EntityType.OSD, addr)
      idleConn.send(numbered(0))
      busyConn.send(numbered(1))
      await within(rx.latch.until(2), 10_000, 'first messages')
      const t0 = performance.now()
      // The busy client sends every 50 ms for 600 ms (three idle periods).
      let i = 2
      await new Promise<void>((resolve) => {
        const iv = setInterval(() => {
          busyConn.send(numbered(i++))
          if (performance.now() - t0 >= 600) { clearInterval(iv); resolve() }
        }, 50)
      })
      assert.equal(await within(idle.reset.promise, 5_000, 'idle reset'), idleConn)
      assert.ok(idle.resets[0] - t0 >= 150, `idle close after ${Math.round(idle.resets[0] - t0)} ms`)
      assert.equal(idleConn.isClosed, true)
      assert.equal(codeOf(idleConn.lastError), 'IDLE_TIMEOUT')
      assert.equal(busy.resets.length, 0, 'the busy connection was not reset')
      assert.equal(busyConn.isOpen, true)
      await within(rx.latch.until(i), 10_000, 'busy messages')
      // Once it stops sending, it idles out too.
      assert.equal(await within(busy.reset.promise, 5_000, 'busy reset after it went quiet'), busyConn)
    })
  })
}
