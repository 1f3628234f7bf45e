// The server's msgr2 handshake, in two parts like v1's. acceptV2 runs on a fresh socket: hello,
// auth, signatures, then CLIENT_IDENT or SESSION_RECONNECT answered from the decision table
// (session-decision.ts) until one opens or takes over a session, or the socket is refused.
// serverOpenV2 then runs on the session that took the socket: SERVER_IDENT (with a new server
// cookie for a lossless session) or RECONNECT_OK (our in_seq, after dropping from the replay
// what the client already has).
import type { AuthServer } from '../../auth/auth-provider.ts'
import { Tag, tagName } from '../../wire-v2/constants.ts'
import type { ClientIdentFrame, SessionReconnectFrame } from '../../wire-v2/frames.ts'
import { compareEntityAddr, formatEntityAddr, isBlankIp } from '../../wire/entity-addr.ts'
import type { EntityAddr } from '../../wire/entity-addr.ts'
import type { EntityName } from '../../wire/entity-name.ts'
import type { Frame } from '../../wire/frame.ts'
import type { Session, Sequenced } from '../../session/session.ts'
import type { Handshake } from '../handshake.ts'
import type { AcceptContext, AcceptResult, OpenContext, PendingOpen, WriterFactory } from '../wire-protocol.ts'
import { serverAuth } from './auth.ts'
import { asMsgr2, hello } from './hello.ts'
import { MSGR2_REQUIRED, identAddrs, markOpened, sameEndpoint, seqNumber, serverIdent } from './ident.ts'
import { readControl, unexpected } from './link.ts'
import type { V2Link, V2Random, V2SessionStates } from './link.ts'
import { decideIdent, decideReconnect } from './session-decision.ts'
import type { ExistingV2 } from './session-decision.ts'
import { SessionWriterV2 } from './session-writer.ts'
import { exchangeSignatures } from './sign.ts'

export interface ServerSetup {
  link: V2Link
  auth: AuthServer
  name: EntityName
  /** The addresses SERVER_IDENT announces (default: ctx.myAddr as a v2 address). */
  addrs: readonly EntityAddr[] | undefined
  random: V2Random
  states: V2SessionStates
}

/** What serverOpenV2 needs of the accept handshake. */
export type PendingV2 =
  | { kind: 'ident', ident: ClientIdentFrame, peerName: EntityName }
  | { kind: 'reconnect', reconnect: SessionReconnectFrame }

function withSeenIp (a: EntityAddr, seen: EntityAddr): EntityAddr {
  return isBlankIp(a) ? { ...a, family: seen.family, ip: seen.ip } : a
}

export function * acceptV2<H> (ctx: AcceptContext<H>, s: ServerSetup): Handshake<Frame, AcceptResult<H>> {
  const { link, states } = s
  const myAddrs = s.addrs !== undefined && s.addrs.length > 0 ? [...s.addrs] : identAddrs([asMsgr2(ctx.myAddr)], undefined)
  const me = myAddrs[0]
  const h = yield * hello(link, s.name.type, { ...ctx.seenAddr, nonce: 0 })
  const policy = ctx.policyFor(h.peerType)
  const outcome = yield * serverAuth(link, s.auth)
  yield * exchangeSignatures(link, outcome.sessionKey)
  // A stateless server (a mon's policy for clients) never looks for an existing session.
  const stateless = policy.server && policy.lossy
  const existingOf = (peerAddr: EntityAddr): { found: ReturnType<AcceptContext<H>['lookup']>, view: ExistingV2 | undefined } => {
    const found = stateless ? undefined : ctx.lookup(peerAddr)
    if (found === undefined) return { found, view: undefined }
    const st = states.peek(found.session)
    const e = found.state
    return {
      found,
      view: {
        connectSeq: e.connectSeq,
        peerGlobalSeq: e.peerGlobalSeq,
        lossy: e.lossy,
        closed: e.closed,
        replacing: e.replacing,
        established: e.established,
        policyServer: e.policyServer,
        clientCookie: st?.clientCookie ?? 0n,
        serverCookie: st?.serverCookie ?? 0n
      }
    }
  }

  while (true) {
    const f = yield * readControl(link)
    if (f.tag === Tag.CLIENT_IDENT) {
      if (f.addrs.length === 0) throw unexpected(f, 'CLIENT_IDENT with an address')
      if (!myAddrs.some((a) => sameEndpoint(a, f.targetAddr))) {
        const err = new Error(`peer is trying to reach ${formatEntityAddr(f.targetAddr)}, which is not us`)
        throw Object.assign(err, { code: 'PEER_ADDR_MISMATCH' })
      }
      const peerAddr = withSeenIp(f.addrs[0], ctx.seenAddr)
      const globalSeq = seqNumber(f.globalSeq)
      yield { kind: 'intercept', step: 'accept:connect', info: { peer: peerAddr, globalSeq } }
      const { found, view } = existingOf(peerAddr)
      const d = decideIdent({
        supported: f.supportedFeatures,
        required: policy.featuresRequired | MSGR2_REQUIRED,
        globalSeq,
        cookie: f.cookie,
        resetcheck: policy.resetcheck,
        existing: view,
        peerAddrLower: compareEntityAddr(peerAddr, me) < 0
      })
      yield { kind: 'intercept', step: 'accept:decision', info: { peer: peerAddr, action: d.action, globalSeq } }
      yield { kind: 'trace', what: 'accept decision', fields: { peer: formatEntityAddr(peerAddr), frame: 'CLIENT_IDENT', ...d, gseq: globalSeq } }
      switch (d.action) {
        case 'refuse':
          yield link.write({ tag: Tag.IDENT_MISSING_FEATURES, features: d.missing })
          return { kind: 'refused', peerAddr, reason: d.reason, tag: 'IDENT_MISSING_FEATURES' }
        case 'drop':
          return { kind: 'refused', peerAddr, reason: d.reason, tag: 'STALE' }
        case 'wait':
          yield link.write({ tag: Tag.WAIT })
          continue
      }
      const pending = pendingOpen(h.peerType, 0, globalSeq, { kind: 'ident', ident: f, peerName: { type: h.peerType, num: Number(f.gid) } }, s, myAddrs)
      if (d.action === 'open' || found === undefined) return { kind: 'open', peerAddr, policy, pending }
      return { kind: 'replace', handle: found.handle, peerAddr, pending, reset: d.reset }
    }
    if (f.tag === Tag.SESSION_RECONNECT) {
      if (f.addrs.length === 0) throw unexpected(f, 'SESSION_RECONNECT with an address')
      const peerAddr = withSeenIp(f.addrs[0], ctx.seenAddr)
      const globalSeq = seqNumber(f.globalSeq)
      const connectSeq = seqNumber(f.connectSeq)
      yield { kind: 'intercept', step: 'accept:connect', info: { peer: peerAddr, connectSeq, globalSeq } }
      const { found, view } = existingOf(peerAddr)
      const d = decideReconnect({
        clientCookie: f.clientCookie,
        serverCookie: f.serverCookie,
        globalSeq,
        connectSeq,
        resetcheck: policy.resetcheck,
        existing: view,
        peerAddrHigher: compareEntityAddr(peerAddr, me) > 0
      })
      yield { kind: 'intercept', step: 'accept:decision', info: { peer: peerAddr, action: d.action, connectSeq, globalSeq } }
      yield { kind: 'trace', what: 'accept decision', fields: { peer: formatEntityAddr(peerAddr), frame: 'SESSION_RECONNECT', ...d, gseq: globalSeq, cseq: connectSeq } }
      switch (d.action) {
        case 'reset':
          yield link.write({ tag: Tag.SESSION_RESET, full: d.full })
          continue
        case 'retry':
          yield link.write({ tag: Tag.SESSION_RETRY, connectSeq: BigInt(d.connectSeq) })
          continue
        case 'retry_global':
          yield link.write({ tag: Tag.SESSION_RETRY_GLOBAL, globalSeq: BigInt(d.globalSeq) })
          continue
        case 'wait':
          yield link.write({ tag: Tag.WAIT })
          continue
      }
      if (found === undefined) throw new Error('reconnect decided without a session')
      const pending = pendingOpen(h.peerType, connectSeq, globalSeq, { kind: 'reconnect', reconnect: f }, s, myAddrs)
      return { kind: 'replace', handle: found.handle, peerAddr, pending, reset: false }
    }
    throw unexpected(f, 'CLIENT_IDENT or SESSION_RECONNECT')
  }
}

function pendingOpen (peerType: number, connectSeq: number, globalSeq: number, p: PendingV2, s: ServerSetup, addrs: EntityAddr[]): PendingOpen {
  let session: Session<Sequenced> | undefined
  const writer: WriterFactory = (features, crc) => {
    if (session === undefined) throw new Error('the v2 writer of an accepted socket exists once its session is open')
    return new SessionWriterV2(s.link, session, features, crc)
  }
  return {
    peerType,
    connectSeq,
    globalSeq,
    open: (ctx, reset) => {
      session = ctx.session
      return serverOpenV2(ctx, p, reset, s, addrs)
    },
    writer
  }
}

/** Open (or resume) the session on the socket it took over. Returns the features both sides support. */
export function * serverOpenV2 (ctx: OpenContext, p: PendingV2, reset: boolean, s: ServerSetup, addrs: EntityAddr[]): Handshake<Frame, { features: bigint }> {
  const { session, policy } = ctx
  const state = s.states.get(session)
  const link = s.link
  if (p.kind === 'reconnect') {
    const r = p.reconnect
    // Whatever the old socket left unacknowledged goes again, less what the client has.
    session.requeueSent()
    session.discardRequeuedUpTo(seqNumber(r.msgSeq))
    yield { kind: 'intercept', step: 'accept:open', info: { connectSeq: seqNumber(r.connectSeq), globalSeq: seqNumber(r.globalSeq) } }
    markOpened(session, seqNumber(r.globalSeq), session.lossy, seqNumber(r.connectSeq))
    yield link.write({ tag: Tag.SESSION_RECONNECT_OK, msgSeq: BigInt(session.inSeq) })
    const peerName = state.peerName ?? { type: link.peerType, num: -1 }
    link.source.openSession(peerName)
    yield { kind: 'trace', what: 'session resumed', fields: { tag: tagName(Tag.SESSION_RECONNECT_OK), inSeq: session.inSeq, outSeq: session.outSeq } }
    return { features: state.features ?? policy.featuresSupported }
  }
  const ident = p.ident
  if (reset) {
    const dropped = session.reset(0)
    yield { kind: 'remoteReset', dropped: dropped.length }
  } else {
    // A new ident on a session we hold: its unacknowledged messages go again, numbering of
    // what we receive starts over.
    session.requeueSent()
    session.restore({ connectSeq: session.connectSeq, inSeq: 0, outSeq: session.outSeq })
  }
  yield { kind: 'intercept', step: 'accept:open', info: { connectSeq: session.connectSeq, globalSeq: seqNumber(ident.globalSeq) } }
  const features = ident.supportedFeatures & policy.featuresSupported
  state.clientCookie = ident.cookie
  state.serverCookie = policy.lossy ? 0n : s.random.cookie()
  state.peerName = p.peerName
  state.features = features
  markOpened(session, seqNumber(ident.globalSeq), policy.lossy, session.connectSeq)
  yield link.write(serverIdent({ addrs, gid: s.name.num, globalSeq: ctx.nextGlobalSeq(), policy, cookie: state.serverCookie }))
  link.source.openSession(p.peerName)
  return { features }
}
