// A client and a server v1 handshake run against each other in memory: no socket, no timer,
// no promise. Each side's writes are decoded by the other side's decoder; the handshakes are
// the protocol's own generators, resumed by hand. Sessions carry messages between attempts.
import { protocolV1 } from '../../../lib/protocol/v1/index.ts'
import type { ExistingSession } from '../../../lib/protocol/v1/accept-decision.ts'
import type { Handshake, HandshakeStep } from '../../../lib/protocol/handshake.ts'
import type { AcceptResult, ClientResult, DecoderConfig, FrameSource } from '../../../lib/protocol/wire-protocol.ts'
import { Policy } from '../../../lib/session/policy.ts'
import { Session } from '../../../lib/session/session.ts'
import type { Sequenced } from '../../../lib/session/session.ts'
import { EntityType } from '../../../lib/wire/constants.ts'
import { DEFAULT_LIMITS } from '../../../lib/wire/limits.ts'
import type { EntityAddr } from '../../../lib/wire/entity-addr.ts'
import type { Frame } from '../../../lib/wire/frame.ts'

export interface M extends Sequenced { id: number }
export const msg = (id: number): M => ({ seq: 0, priority: 127, payloadLength: 8, id })

export const addr = (port: number, nonce: number): EntityAddr => ({ type: 1, nonce, family: 2, ip: '127.0.0.1', port })

export const decoderConfig: DecoderConfig = { limits: DEFAULT_LIMITS, crcHeader: true, crcData: true, copyBelow: 0 }

/** One end: its session, its policy and the steps its handshake took. */
export interface End {
  session: Session<M>
  policy: Policy
  addr: EntityAddr
  gseq: number
  steps: string[]
  remoteResets: number
}

export function end (policy: Policy, a: EntityAddr): End {
  return { session: new Session<M>(policy.lossy), policy, addr: a, gseq: 0, steps: [], remoteResets: 0 }
}

/** Where a handshake stands between advance() calls: parked on a read, or holding the frame to resume with. */
interface Cursor { parked: boolean, frame?: Frame | undefined }

/** Run a handshake until it needs a frame its source does not have yet, or ends. */
function advance<R> (hs: Handshake<Frame, R>, src: FrameSource, out: FrameSource, who: End, cur: Cursor): { done: true, value: R } | { done: false } {
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
      for (const b of step.bufs) out.push(b)
    } else if (step.kind === 'remoteReset') {
      who.remoteResets++
    } else if (step.kind === 'read') {
      const f = src.next()
      if (f === undefined) {
        // Parked: resumed with the frame once the peer has written it.
        cur.parked = true
        return { done: false }
      }
      cur.frame = f
    }
  }
}

export type ServerOutcome = { kind: 'open' | 'replace', reset: boolean } | { kind: 'refused', tag: string }

type ServerState =
  | { phase: 'accept', hs: Handshake<Frame, AcceptResult<End>> }
  | { phase: 'open', hs: Handshake<Frame, { features: bigint }>, outcome: ServerOutcome }
  | { phase: 'done', outcome: ServerOutcome }

/**
 * One connection attempt: the client's handshake against the server's accept (and open, when
 * it opens). `existing`: what the server knows of a session with this client (for its accept
 * decision). Returns how each side ended (undefined: still waiting for the other).
 */
export function connect (client: End, server: End, existing?: ExistingSession): { client: ClientResult | undefined, server: ServerOutcome | undefined } {
  const c = protocolV1.client({
    session: client.session,
    policy: client.policy,
    peerAddr: server.addr,
    myType: EntityType.OSD,
    myAddr: () => client.addr,
    nextGlobalSeq: (atLeast = 0) => { client.gseq = Math.max(client.gseq, atLeast) + 1; return client.gseq },
    protocolVersion: 0,
    internalDelayMs: 0
  }, decoderConfig)
  const s = protocolV1.accept<End>({
    myAddr: server.addr,
    seenAddr: client.addr,
    policyFor: () => server.policy,
    protocolVersion: () => 0,
    lookup: () => existing === undefined ? undefined : { handle: server, state: existing }
  }, decoderConfig)
  let st: ServerState = { phase: 'accept', hs: s.handshake }
  let clientResult: ClientResult | undefined
  const cp: Cursor = { parked: false }
  const sp: Cursor = { parked: false }
  for (let round = 0; round < 100; round++) {
    if (clientResult === undefined) {
      const r = advance(c.handshake, c.source, s.source, client, cp)
      if (r.done) {
        clientResult = r.value
        // What the handshake left for the writer's first write (v1: our in_seq after SEQ).
        if (clientResult.kind === 'ready' && clientResult.tail !== undefined) s.source.push(clientResult.tail)
      }
    }
    if (st.phase === 'accept') {
      const r: { done: true, value: AcceptResult<End> } | { done: false } = advance(st.hs, s.source, c.source, server, sp)
      if (r.done) {
        const v: AcceptResult<End> = r.value
        if (v.kind === 'refused') {
          st = { phase: 'done', outcome: { kind: 'refused', tag: v.tag } }
        } else {
          const reset: boolean = v.kind === 'replace' && v.reset
          const hs = v.pending.open({ session: server.session, policy: server.policy, nextGlobalSeq: () => ++server.gseq, protocolVersion: 0 }, reset)
          st = { phase: 'open', hs, outcome: { kind: v.kind, reset } }
        }
      }
    }
    if (st.phase === 'open') {
      const r: { done: true, value: { features: bigint } } | { done: false } = advance(st.hs, s.source, c.source, server, sp)
      if (r.done) st = { phase: 'done', outcome: st.outcome }
    }
    if (clientResult !== undefined && (st.phase === 'done' || clientResult.kind === 'wait')) break
  }
  return { client: clientResult, server: st.phase === 'done' ? st.outcome : undefined }
}

/** The sender's session writes up to `max` messages; the receiver's session takes them. Returns the ids accepted. */
export function transfer (from: End, to: End, max = Infinity): number[] {
  const got: number[] = []
  for (let i = 0; i < max; i++) {
    const m = from.session.nextToSend()
    if (m === undefined) break
    if (to.session.receive(m.seq) === 'accept') got.push(m.id)
  }
  return got
}
