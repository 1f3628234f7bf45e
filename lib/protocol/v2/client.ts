// The client's msgr2 handshake: hello, auth, signatures, then the session phase. A new session
// (no server cookie yet) sends CLIENT_IDENT and opens on SERVER_IDENT; a session that had one
// sends SESSION_RECONNECT (cookies, connect_seq, our in_seq) and resumes on RECONNECT_OK,
// dropping from its replay what the server says it has. SESSION_RESET, SESSION_RETRY,
// SESSION_RETRY_GLOBAL and WAIT are answered as Ceph's ProtocolV2 does.
import type { AuthClient } from '../../auth/auth-provider.ts'
import { Tag, tagName } from '../../wire-v2/constants.ts'
import type { EntityAddr } from '../../wire/entity-addr.ts'
import type { EntityName } from '../../wire/entity-name.ts'
import { formatEntityAddr } from '../../wire/entity-addr.ts'
import type { Frame } from '../../wire/frame.ts'
import type { Handshake } from '../handshake.ts'
import { MessengerError, MessengerErrorCode } from '../errors.ts'
import type { ClientContext, ClientResult } from '../wire-protocol.ts'
import { clientAuth } from './auth.ts'
import { asMsgr2, hello } from './hello.ts'
import { IDENT_LOSSY, clientIdent, identAddrs, markOpened, restartSession, sameEndpoint, seqNumber } from './ident.ts'
import { readControl, unexpected } from './link.ts'
import type { V2Link, V2Random, V2SessionStates } from './link.ts'
import { exchangeSignatures } from './sign.ts'

export interface ClientSetup {
  link: V2Link
  providers: readonly AuthClient[]
  /** Our entity name (its num is the ident's gid). */
  name: EntityName
  /** Our addresses, if we know them better than ctx.myAddr(). */
  addrs: readonly EntityAddr[] | undefined
  random: V2Random
  states: V2SessionStates
}

export function * clientHandshakeV2 (ctx: ClientContext, s: ClientSetup): Handshake<Frame, ClientResult> {
  const { link, states } = s
  const session = ctx.session
  let policy = ctx.policy
  const state = states.get(session)
  const target = asMsgr2(ctx.peerAddr)
  yield { kind: 'intercept', step: 'connect:start', info: {} }
  let globalSeq = ctx.nextGlobalSeq()
  const h = yield * hello(link, ctx.myType, target, ctx.peerType)
  yield { kind: 'learnAddr', addr: h.seenByPeer }
  if (ctx.internalDelayMs > 0) yield { kind: 'delay', ms: ctx.internalDelayMs }
  const outcome = yield * clientAuth(link, s.providers)
  yield * exchangeSignatures(link, outcome.sessionKey)
  const addrs = identAddrs(s.addrs ?? [ctx.myAddr()], h.seenByPeer)

  while (true) {
    const reconnect = state.serverCookie !== 0n
    yield { kind: 'intercept', step: 'connect:send_connect', info: { connectSeq: session.connectSeq, globalSeq } }
    if (reconnect) {
      yield link.write({
        tag: Tag.SESSION_RECONNECT,
        addrs,
        clientCookie: state.clientCookie,
        serverCookie: state.serverCookie,
        globalSeq: BigInt(globalSeq),
        connectSeq: BigInt(session.connectSeq),
        msgSeq: BigInt(session.inSeq)
      })
    } else {
      if (!policy.lossy && state.clientCookie === 0n) state.clientCookie = s.random.cookie()
      yield link.write(clientIdent({ addrs, target, gid: s.name.num, globalSeq, policy, cookie: state.clientCookie }))
    }
    const f = yield * readControl(link)
    yield { kind: 'intercept', step: 'connect:reply', info: { tag: tagName(f.tag), connectSeq: session.connectSeq, globalSeq } }
    yield { kind: 'trace', what: 'session reply', fields: { tag: tagName(f.tag), reconnect, cs: session.connectSeq, gs: globalSeq } }
    switch (f.tag) {
      case Tag.WAIT:
        return { kind: 'wait' }
      case Tag.IDENT_MISSING_FEATURES: {
        if (reconnect) throw unexpected(f, 'a reply to SESSION_RECONNECT')
        const err = new MessengerError(MessengerErrorCode.REFUSED, `IDENT_MISSING_FEATURES: peer requires features we lack: 0x${f.features.toString(16)}`)
        throw Object.assign(err, { tag: 'IDENT_MISSING_FEATURES' })
      }
      case Tag.SERVER_IDENT: {
        if (reconnect) throw unexpected(f, 'a reply to SESSION_RECONNECT')
        if (!f.addrs.some((a) => sameEndpoint(a, target))) {
          throw new MessengerError(MessengerErrorCode.PEER_ADDR_MISMATCH, `dialled ${formatEntityAddr(target)}, peer identifies as [${f.addrs.map((a) => formatEntityAddr(a)).join(',')}]`)
        }
        const missing = policy.featuresRequired & ~f.supportedFeatures
        if (missing !== 0n) throw new MessengerError(MessengerErrorCode.REFUSED, `peer lacks required features 0x${missing.toString(16)}`)
        yield { kind: 'intercept', step: 'connect:ready', info: {} }
        const lossy = (f.flags & IDENT_LOSSY) !== 0n
        if (lossy !== policy.lossy) policy = policy.with({ lossy })
        const peerName = { type: h.peerType, num: Number(f.gid) }
        const features = f.supportedFeatures & policy.featuresSupported
        state.serverCookie = f.cookie
        state.peerName = peerName
        state.features = features
        markOpened(session, seqNumber(f.globalSeq), lossy, session.connectSeq)
        link.source.openSession(peerName)
        return { kind: 'ready', policy, features, tail: undefined, peerName }
      }
      case Tag.SESSION_RECONNECT_OK: {
        if (!reconnect) throw unexpected(f, 'SERVER_IDENT')
        // The server has our messages up to msg_seq: they leave the replay.
        session.discardRequeuedUpTo(seqNumber(f.msgSeq))
        yield { kind: 'intercept', step: 'connect:ready', info: {} }
        const peerName = state.peerName ?? { type: h.peerType, num: -1 }
        const features = state.features ?? policy.featuresSupported
        markOpened(session, session.peerGlobalSeq, session.lossy, session.connectSeq)
        link.source.openSession(peerName)
        return { kind: 'ready', policy, features, tail: undefined, peerName }
      }
      case Tag.SESSION_RESET: {
        if (!reconnect) throw unexpected(f, 'SERVER_IDENT')
        if (f.full) {
          // The server lost the session: ours goes too, and we say so.
          const dropped = session.reset(0)
          state.clientCookie = 0n
          state.serverCookie = 0n
          yield { kind: 'remoteReset', dropped: dropped.length }
        } else {
          state.serverCookie = 0n
          restartSession(session)
        }
        continue
      }
      case Tag.SESSION_RETRY: {
        if (!reconnect) throw unexpected(f, 'SERVER_IDENT')
        const cs = seqNumber(f.connectSeq) + 1
        if (!session.retrySession(cs)) {
          throw new MessengerError(MessengerErrorCode.BAD_CONNECT_SEQ, `SESSION_RETRY to connect_seq ${cs} <= ${session.connectSeq}`)
        }
        continue
      }
      case Tag.SESSION_RETRY_GLOBAL:
        if (!reconnect) throw unexpected(f, 'SERVER_IDENT')
        globalSeq = ctx.nextGlobalSeq(seqNumber(f.globalSeq))
        continue
      default:
        throw unexpected(f, reconnect ? 'a reply to SESSION_RECONNECT' : 'SERVER_IDENT')
    }
  }
}
