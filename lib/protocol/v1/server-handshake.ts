// The server half of the v1 handshake (ProtocolV1's accept path), in two parts. acceptV1 runs
// on a fresh socket: banner and addresses, then the client's connect messages, answered from
// decideAccept until one opens a session (new, or an existing one that takes the socket over)
// or is refused. serverOpenV1 then runs on the session that took the socket: reply READY or
// SEQ, exchange in_seqs, and the session is open.
import { CONNECT_LOSSY, Tag, tagName } from '../../wire/constants.ts'
import type { ConnectMsg } from '../../wire/connect.ts'
import { encodeConnectReply, encodeSeq } from '../../wire/connect.ts'
import { encodeServerHello } from '../../wire/encoder.ts'
import { compareEntityAddr, formatEntityAddr, isBlankIp } from '../../wire/entity-addr.ts'
import { Feature } from '../../wire/features.ts'
import type { FrameDecoder } from '../../wire/decoder.ts'
import type { Frame } from '../../wire/frame.ts'
import { MessengerError, MessengerErrorCode } from '../errors.ts'
import { frameOf } from '../handshake.ts'
import type { Handshake } from '../handshake.ts'
import type { AcceptContext, AcceptResult, OpenContext, PendingOpen } from '../wire-protocol.ts'
import { decideAccept } from './accept-decision.ts'

/** What serverOpenV1 needs of the accept handshake: the connect it answers, the socket's decoder. */
export interface PendingOpenV1 {
  readonly connect: ConnectMsg
  readonly dec: FrameDecoder
}

function expectKind<K extends Frame['kind']> (f: Frame | undefined, kind: K): Extract<Frame, { kind: K }> {
  const got = frameOf(f, kind)
  if (got.kind !== kind) throw new MessengerError(MessengerErrorCode.SOCKET_ERROR, `expected ${kind}, got ${got.kind}`)
  return got as Extract<Frame, { kind: K }>
}

export function * acceptV1<H> (inp: AcceptContext<H>, dec: FrameDecoder): Handshake<Frame, AcceptResult<H>> {
  yield { kind: 'write', bufs: [encodeServerHello(inp.myAddr, inp.seenAddr)] }
  expectKind(yield { kind: 'read', expect: 'banner' }, 'banner')
  let peerAddr = expectKind(yield { kind: 'read', expect: 'addr' }, 'addr').addr
  // A client that does not know its IP claims a blank one: use what the socket says, keep its
  // port and nonce.
  if (isBlankIp(peerAddr)) peerAddr = { ...inp.seenAddr, port: peerAddr.port, nonce: peerAddr.nonce }
  while (true) {
    const connect = expectKind(yield { kind: 'read', expect: 'connect' }, 'connect').connect
    yield { kind: 'intercept', step: 'accept:connect', info: { peer: peerAddr, connectSeq: connect.connectSeq, globalSeq: connect.globalSeq } }
    const policy = inp.policyFor(connect.hostType)
    const myProto = inp.protocolVersion(connect.hostType)
    // A stateless server (the mon's policy for clients) never looks for an existing session.
    const existing = policy.server && policy.lossy ? undefined : inp.lookup(peerAddr)
    const decision = decideAccept({
      connect,
      myProtocol: myProto,
      policy,
      required: policy.featuresRequired,
      existing: existing?.state,
      peerAddrLower: compareEntityAddr(peerAddr, inp.myAddr) < 0
    })
    const tag = decision.action === 'retry' || decision.action === 'refuse' ? { tag: tagName(decision.tag) } : {}
    yield { kind: 'intercept', step: 'accept:decision', info: { peer: peerAddr, action: decision.action, ...tag, connectSeq: connect.connectSeq, globalSeq: connect.globalSeq } }
    yield { kind: 'trace', what: 'accept decision', fields: { peer: formatEntityAddr(peerAddr), ...decision, gseq: connect.globalSeq, cseq: connect.connectSeq } }
    if (decision.action === 'retry' || decision.action === 'refuse') {
      yield {
        kind: 'write',
        bufs: [encodeConnectReply({
          tag: decision.tag,
          features: (connect.features & policy.featuresSupported) | policy.featuresRequired,
          globalSeq: decision.action === 'retry' ? decision.globalSeq ?? 0 : 0,
          connectSeq: decision.action === 'retry' ? decision.connectSeq ?? 0 : 0,
          protocolVersion: myProto,
          flags: 0
        })]
      }
      if (decision.action === 'refuse') return { kind: 'refused', peerAddr, reason: decision.reason, tag: tagName(decision.tag) }
      dec.expect('connect')
      continue
    }
    const pending: PendingOpen = {
      peerType: connect.hostType,
      connectSeq: connect.connectSeq,
      globalSeq: connect.globalSeq,
      open: (ctx, reset) => serverOpenV1(ctx, { connect, dec }, reset)
    }
    if (decision.action === 'open' || existing === undefined) return { kind: 'open', peerAddr, policy, pending }
    return { kind: 'replace', handle: existing.handle, peerAddr, pending, reset: decision.reset }
  }
}

/** Open the session on the socket it took over. Returns the features both sides support. */
export function * serverOpenV1 (inp: OpenContext, pending: PendingOpenV1, reset: boolean): Handshake<Frame, { features: bigint }> {
  const { session, policy } = inp
  const { connect, dec } = pending
  if (reset) {
    const dropped = session.reset(0)
    yield { kind: 'remoteReset', dropped: dropped.length }
  } else {
    // Whatever the old socket left unacknowledged is sent again (or dropped by the SEQ exchange).
    session.requeueSent()
  }
  yield { kind: 'intercept', step: 'accept:open', info: { connectSeq: connect.connectSeq, globalSeq: connect.globalSeq } }
  // With RECONNECT_SEQ both sides tell each other their in_seq, so neither resends what the
  // other already has.
  const seqTag = (connect.features & Feature.RECONNECT_SEQ) !== 0n && !reset
  session.serverOpened(connect.connectSeq, connect.globalSeq)
  const features = policy.featuresSupported & connect.features
  dec.setNegotiatedFeatures(features)
  const reply = encodeConnectReply({
    tag: seqTag ? Tag.SEQ : Tag.READY,
    features: policy.featuresSupported,
    globalSeq: inp.nextGlobalSeq(),
    connectSeq: session.connectSeq,
    protocolVersion: inp.protocolVersion,
    flags: policy.lossy ? CONNECT_LOSSY : 0
  })
  if (seqTag) {
    yield { kind: 'write', bufs: [reply, encodeSeq(session.inSeq)] }
    dec.expect('seq')
    session.discardRequeuedUpTo(expectKind(yield { kind: 'read', expect: 'seq' }, 'seq').seq)
  } else {
    yield { kind: 'write', bufs: [reply] }
    dec.expect('tags')
  }
  session.inSeqToldPeer()
  return { features }
}
