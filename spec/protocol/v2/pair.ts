// A client and a server msgr2 handshake run against each other in memory: no socket, no timer,
// no promise. Each side's writes go into the other side's FrameSource; the handshakes are the
// protocol's own generators, resumed by hand. After the handshake, messages travel through the
// sockets' own writers and sources, so framing (crc or secure), ack_seq and src are exercised too.
import { CephxAuthClient, CephxServer, ConMode, CryptoKey, Keyring, MonAuthServer, NoneAuthClient, ServiceSecrets } from '../../../lib/auth/index.ts'
import type { AuthClient, AuthServer, RandomSource } from '../../../lib/auth/index.ts'
import type { Handshake, HandshakeStep } from '../../../lib/protocol/handshake.ts'
import type { ExistingSession } from '../../../lib/protocol/v1/accept-decision.ts'
import { protocolV2 } from '../../../lib/protocol/v2/index.ts'
import type { ProtocolV2 } from '../../../lib/protocol/v2/index.ts'
import type { AcceptResult, ClientResult, DecoderConfig, FrameSource, SessionWriter, WriterFactory } from '../../../lib/protocol/wire-protocol.ts'
import { Policy } from '../../../lib/session/policy.ts'
import { Session } from '../../../lib/session/session.ts'
import type { Sequenced } from '../../../lib/session/session.ts'
import { EntityType } from '../../../lib/wire/constants.ts'
import type { EntityAddr } from '../../../lib/wire/entity-addr.ts'
import type { EntityName } from '../../../lib/wire/entity-name.ts'
import type { Frame } from '../../../lib/wire/frame.ts'
import { DEFAULT_LIMITS } from '../../../lib/wire/limits.ts'
import { seededRandom } from '../../auth/support.ts'

export interface M extends Sequenced { id: number }
export const msg = (id: number): M => ({ seq: 0, priority: 127, payloadLength: 4, id })

export const addr = (port: number, nonce: number): EntityAddr => ({ type: 2, nonce, family: 2, ip: '127.0.0.1', port })

export const decoderConfig: DecoderConfig = { limits: DEFAULT_LIMITS, crcHeader: true, crcData: true, copyBelow: 0 }

export const ADMIN = { type: 8, id: 'admin' }

/** A keyring with client.admin, and a mon auth server over it (cephx and none, both modes). */
export function cephxEnv (seed: string, modes: readonly number[] = [ConMode.SECURE, ConMode.CRC]): { keyring: Keyring, key: CryptoKey, server: MonAuthServer, random: RandomSource } {
  const random = seededRandom(seed)
  const clock = { now: () => 1_700_000_000_000 }
  const keyring = new Keyring()
  const key = CryptoKey.generate(random, { sec: 1_700_000_000, nsec: 0 })
  keyring.set({ entity: ADMIN, key, caps: new Map([['mon', 'allow *']]) })
  const secrets = new ServiceSecrets({ random, clock })
  const cephx = new CephxServer({ keyring, secrets, random, clock })
  return { keyring, key, server: new MonAuthServer({ cephx, allowNone: true, modes }), random }
}

/** One end: its protocol instance (per messenger), session, policy and the steps its handshakes took. */
export interface End {
  proto: ProtocolV2
  session: Session<M>
  policy: Policy
  addr: EntityAddr
  name: EntityName
  gseq: number
  steps: string[]
  traces: Array<{ what: string, fields: Record<string, unknown> }>
  remoteResets: number
}

export interface EndInit {
  policy: Policy
  addr: EntityAddr
  name?: EntityName
  /** Client side: providers per connection. Default: auth none for client.admin. */
  authClient?: () => AuthClient | readonly AuthClient[]
  authServer?: AuthServer
  seed?: string
}

export function end (init: EndInit): End {
  const name = init.name ?? { type: EntityType.OSD, num: init.addr.port }
  const proto = protocolV2({
    name,
    authClient: init.authClient ?? (() => new NoneAuthClient(ADMIN)),
    authServer: init.authServer ?? new MonAuthServer({ allowNone: true }),
    random: seededRandom(init.seed ?? `cookies/${init.addr.port}`)
  })
  return { proto, session: new Session<M>(init.policy.lossy), policy: init.policy, addr: init.addr, name, gseq: 0, steps: [], traces: [], remoteResets: 0 }
}

/** Where a handshake stands between advance() calls: parked on a read, or holding the frame to resume with. */
interface Cursor { parked: boolean, frame?: Frame | undefined }

type Tamper = (b: Uint8Array) => Uint8Array

/** Run a handshake until it needs a frame its source does not have yet, or ends. */
function advance<R> (hs: Handshake<Frame, R>, src: FrameSource, out: FrameSource, who: End, cur: Cursor, wire: Uint8Array[], tamper?: Tamper): { done: true, value: R } | { done: false } {
  if (cur.parked) {
    const f = src.next()
    if (f === undefined) return { done: false }
    cur.parked = false
    cur.frame = f
  }
  while (true) {
    const r = hs.next(cur.frame)
    cur.frame = undefined
    if (r.done === true) return { done: true, value: r.value }
    const step: HandshakeStep = r.value
    who.steps.push(step.kind === 'read' ? `read:${step.expect}` : step.kind === 'intercept' ? step.step : step.kind)
    if (step.kind === 'write') {
      for (const b of step.bufs) {
        const t = tamper === undefined ? b : tamper(b)
        wire.push(t)
        out.push(t)
      }
    } else if (step.kind === 'remoteReset') {
      who.remoteResets++
    } else if (step.kind === 'trace') {
      who.traces.push({ what: step.what, fields: step.fields })
    } else if (step.kind === 'read') {
      const f = src.next()
      if (f === undefined) {
        cur.parked = true
        return { done: false }
      }
      cur.frame = f
    }
  }
}

export type ServerOutcome = { kind: 'open' | 'replace', reset: boolean, features?: bigint } | { kind: 'refused', tag: string }

type ServerState =
  | { phase: 'accept', hs: Handshake<Frame, AcceptResult<End>> }
  | { phase: 'open', hs: Handshake<Frame, { features: bigint }>, outcome: { kind: 'open' | 'replace', reset: boolean }, writer: WriterFactory | undefined }
  | { phase: 'done', outcome: ServerOutcome, writer: WriterFactory | undefined }

/** One socket between the two ends, after its handshake. */
export interface Link {
  client: ClientResult | undefined
  server: ServerOutcome | undefined
  /** What each side wrote during the handshake, in order. */
  c2s: Uint8Array[]
  s2c: Uint8Array[]
  /** Each side's source (fed by the other side) and writer, for the open session. */
  clientSource: FrameSource
  serverSource: FrameSource
  clientWriter: SessionWriter | undefined
  serverWriter: SessionWriter | undefined
}

export interface ConnectOptions {
  /** What the server knows of a session with this client; its session is `server.session`. */
  existing?: ExistingSession | undefined
  /** Rewrite each buffer the client writes (before the server reads it). */
  tamperC2S?: Tamper
  peerType?: number
}

/**
 * One connection attempt: the client's handshake against the server's accept (and open, when it
 * opens). Returns how each side ended (undefined: still waiting for the other).
 */
export function connect (client: End, server: End, o: ConnectOptions = {}): Link {
  // Traces describe this socket only.
  client.traces.length = 0
  server.traces.length = 0
  const c = client.proto.client({
    session: client.session,
    policy: client.policy,
    peerAddr: server.addr,
    myType: client.name.type,
    myAddr: () => client.addr,
    nextGlobalSeq: (atLeast = 0) => { client.gseq = Math.max(client.gseq, atLeast) + 1; return client.gseq },
    protocolVersion: 0,
    internalDelayMs: 0,
    peerType: o.peerType
  }, decoderConfig)
  const s = server.proto.accept<End>({
    myAddr: server.addr,
    seenAddr: { ...client.addr, type: 1, nonce: 0 },
    policyFor: () => server.policy,
    protocolVersion: () => 0,
    lookup: () => o.existing === undefined ? undefined : { handle: server, state: o.existing, session: server.session }
  }, decoderConfig)
  let st: ServerState = { phase: 'accept', hs: s.handshake }
  let clientResult: ClientResult | undefined
  const cp: Cursor = { parked: false }
  const sp: Cursor = { parked: false }
  const c2s: Uint8Array[] = []
  const s2c: Uint8Array[] = []
  for (let round = 0; round < 200; round++) {
    if (clientResult === undefined) {
      const r = advance(c.handshake, c.source, s.source, client, cp, c2s, o.tamperC2S)
      if (r.done) clientResult = r.value
    }
    if (st.phase === 'accept') {
      const r: { done: true, value: AcceptResult<End> } | { done: false } = advance(st.hs, s.source, c.source, server, sp, s2c)
      if (r.done) {
        const v: AcceptResult<End> = r.value
        if (v.kind === 'refused') {
          st = { phase: 'done', outcome: { kind: 'refused', tag: v.tag }, writer: undefined }
        } else {
          const reset: boolean = v.kind === 'replace' && v.reset
          const hs = v.pending.open({ session: server.session, policy: server.policy, nextGlobalSeq: () => ++server.gseq, protocolVersion: 0 }, reset)
          st = { phase: 'open', hs, outcome: { kind: v.kind, reset }, writer: v.pending.writer }
        }
      }
    }
    if (st.phase === 'open') {
      const r: { done: true, value: { features: bigint } } | { done: false } = advance(st.hs, s.source, c.source, server, sp, s2c)
      if (r.done) st = { phase: 'done', outcome: { ...st.outcome, features: r.value.features }, writer: st.writer }
    }
    if (clientResult !== undefined && (st.phase === 'done' || clientResult.kind === 'wait')) break
  }
  const crc = { crcHeader: true, crcData: true }
  const ready = clientResult?.kind === 'ready'
  return {
    client: clientResult,
    server: st.phase === 'done' ? st.outcome : undefined,
    c2s,
    s2c,
    clientSource: c.source,
    serverSource: s.source,
    clientWriter: ready && c.writer !== undefined ? c.writer(clientResult?.kind === 'ready' ? clientResult.features : 0n, crc) : undefined,
    serverWriter: st.phase === 'done' && st.outcome.kind !== 'refused' && st.writer !== undefined ? st.writer(0n, crc) : undefined
  }
}

function idBytes (id: number): Uint8Array {
  const b = new Uint8Array(4)
  new DataView(b.buffer).setUint32(0, id, true)
  return b
}

export interface Received { ids: number[], acks: number[], srcs: EntityName[], frames: Frame[] }

/**
 * The sender's session writes up to `max` messages through its socket's writer; `deliver`: the
 * bytes reach the peer (false: lost with the socket). The receiver's session takes them.
 */
export function send (from: End, w: SessionWriter, max = Infinity): Uint8Array[] {
  for (let i = 0; i < max; i++) {
    const m = from.session.nextToSend()
    if (m === undefined) break
    w.message({
      header: { seq: m.seq, tid: 0, type: 0x2, priority: m.priority, version: 1, dataOff: 0, src: { type: 0, num: 0 }, compatVersion: 1 },
      front: idBytes(m.id),
      middle: new Uint8Array(0),
      data: new Uint8Array(0)
    })
  }
  return w.flush()
}

/** Push bytes into the receiver's source and let its session take what comes out. */
export function receive (to: End, src: FrameSource, bytes: Uint8Array[]): Received {
  const out: Received = { ids: [], acks: [], srcs: [], frames: [] }
  for (const b of bytes) src.push(b)
  for (let f = src.next(); f !== undefined; f = src.next()) {
    out.frames.push(f)
    if (f.kind === 'ack') {
      out.acks.push(f.seq)
      to.session.handleAck(f.seq)
    } else if (f.kind === 'msg') {
      out.srcs.push(f.header.src)
      if (to.session.receive(f.header.seq) === 'accept') out.ids.push(new DataView(f.front.buffer, f.front.byteOffset).getUint32(0, true))
    }
  }
  return out
}

/** The sender's session writes up to `max` messages; the receiver's session takes them (session level only). */
export function transfer (from: End, to: End, max = Infinity): number[] {
  const got: number[] = []
  for (let i = 0; i < max; i++) {
    const m = from.session.nextToSend()
    if (m === undefined) break
    if (to.session.receive(m.seq) === 'accept') got.push(m.id)
  }
  return got
}

export const cephxClient = (key: CryptoKey, random: RandomSource, modes: readonly number[]) => () => new CephxAuthClient({ entity: ADMIN, key, preferredModes: modes, random, clock: { now: () => 1_700_000_000_000 } })
