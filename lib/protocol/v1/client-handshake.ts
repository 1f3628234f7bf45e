// The client half of the v1 handshake (ProtocolV1's connect path): banner and addresses, then
// connect messages until the server opens the session or refuses it. Every decision on a
// connect_reply lives here: retry the session, retry the global seq, wait, reset, ready, refuse.
import { CONNECT_LOSSY, Tag, tagName } from '../../wire/constants.ts'
import { encodeConnect, encodeSeq } from '../../wire/connect.ts'
import { encodeBanner } from '../../wire/encoder.ts'
import { encodeEntityAddr, formatEntityAddr, isBlankIp } from '../../wire/entity-addr.ts'
import type { EntityAddr } from '../../wire/entity-addr.ts'
import type { FrameDecoder } from '../../wire/decoder.ts'
import type { Frame } from '../../wire/frame.ts'
import { MessengerError, MessengerErrorCode } from '../errors.ts'
import { frameOf } from '../handshake.ts'
import type { Handshake } from '../handshake.ts'
import type { ClientContext, ClientResult } from '../wire-protocol.ts'

function sameHostPort (a: EntityAddr, b: EntityAddr): boolean {
  return a.ip === b.ip && a.port === b.port
}

function expectKind<K extends Frame['kind']> (f: Frame | undefined, kind: K): Extract<Frame, { kind: K }> {
  const got = frameOf(f, kind)
  if (got.kind !== kind) throw new MessengerError(MessengerErrorCode.SOCKET_ERROR, `expected ${kind}, got ${got.kind}`)
  return got as Extract<Frame, { kind: K }>
}

export function * clientHandshakeV1 (inp: ClientContext, dec: FrameDecoder): Handshake<Frame, ClientResult> {
  const { session, peerAddr } = inp
  let policy = inp.policy
  yield { kind: 'intercept', step: 'connect:start', info: {} }
  let globalSeq = inp.nextGlobalSeq()
  yield { kind: 'write', bufs: [encodeBanner()] }
  expectKind(yield { kind: 'read', expect: 'banner' }, 'banner')
  const paddr = expectKind(yield { kind: 'read', expect: 'addr' }, 'addr').addr
  const seen = expectKind(yield { kind: 'read', expect: 'addr' }, 'addr').addr
  if (!sameHostPort(paddr, peerAddr) && !(isBlankIp(paddr) && paddr.port === peerAddr.port)) {
    throw new MessengerError(MessengerErrorCode.PEER_ADDR_MISMATCH, `dialled ${formatEntityAddr(peerAddr)}, peer says ${formatEntityAddr(paddr)}`)
  }
  if (peerAddr.nonce !== 0 && paddr.nonce !== peerAddr.nonce) {
    throw new MessengerError(MessengerErrorCode.PEER_ADDR_MISMATCH, `peer nonce ${paddr.nonce}, expected ${peerAddr.nonce}`)
  }
  yield { kind: 'learnAddr', addr: seen }
  if (inp.internalDelayMs > 0) yield { kind: 'delay', ms: inp.internalDelayMs }
  // Our address goes out in the same write as the first connect (one segment, one wake-up of
  // the peer, instead of two).
  let addrBytes: Uint8Array[] = [encodeEntityAddr(inp.myAddr())]
  while (true) {
    yield { kind: 'intercept', step: 'connect:send_connect', info: { connectSeq: session.connectSeq, globalSeq } }
    yield {
      kind: 'write',
      bufs: [...addrBytes, encodeConnect({
        features: policy.featuresSupported,
        hostType: inp.myType,
        globalSeq,
        connectSeq: session.connectSeq,
        protocolVersion: inp.protocolVersion,
        authorizerProtocol: inp.authorizer?.protocol ?? 0,
        authorizer: inp.authorizer?.bytes,
        flags: policy.lossy ? CONNECT_LOSSY : 0
      })]
    }
    addrBytes = []
    const reply = expectKind(yield { kind: 'read', expect: 'connect_reply' }, 'connect_reply').reply
    yield { kind: 'intercept', step: 'connect:reply', info: { tag: tagName(reply.tag), connectSeq: reply.connectSeq, globalSeq: reply.globalSeq } }
    yield { kind: 'trace', what: 'connect_reply', fields: { tag: tagName(reply.tag), gseq: reply.globalSeq, cseq: reply.connectSeq } }
    switch (reply.tag) {
      case Tag.FEATURES:
      case Tag.BADPROTOVER:
      case Tag.BADAUTHORIZER:
      case Tag.CHALLENGE_AUTHORIZER: {
        const err = new MessengerError(MessengerErrorCode.REFUSED, `peer replied ${tagName(reply.tag)}` +
          (reply.tag === Tag.FEATURES ? ` (requires 0x${reply.features.toString(16)}, missing 0x${(reply.features & ~policy.featuresSupported).toString(16)})` : ''))
        throw Object.assign(err, { tag: tagName(reply.tag) })
      }
      case Tag.RESETSESSION: {
        // Ceph's code can randomise the first seq of a reset session under MSG_AUTH, but real
        // Pacific mons were seen restarting at seq 1 after RESETSESSION; receivers accept
        // either, so we restart at 1 like the daemons do (spec/session/lossless-golden.spec.ts).
        const dropped = session.reset(0)
        yield { kind: 'remoteReset', dropped: dropped.length }
        continue
      }
      case Tag.RETRY_GLOBAL:
        globalSeq = inp.nextGlobalSeq(reply.globalSeq)
        continue
      case Tag.RETRY_SESSION:
        if (!session.retrySession(reply.connectSeq)) {
          throw new MessengerError(MessengerErrorCode.BAD_CONNECT_SEQ, `RETRY_SESSION with connect_seq ${reply.connectSeq} <= ${session.connectSeq}`)
        }
        continue
      case Tag.WAIT:
        return { kind: 'wait' }
    }
    const missing = policy.featuresRequired & ~reply.features
    if (missing !== 0n) throw new MessengerError(MessengerErrorCode.REFUSED, `peer lacks required features 0x${missing.toString(16)}`)
    let tail: Uint8Array | undefined
    if (reply.tag === Tag.SEQ) {
      const peerInSeq = expectKind(yield { kind: 'read', expect: 'seq' }, 'seq').seq
      session.discardRequeuedUpTo(peerInSeq)
      tail = encodeSeq(session.inSeq)
    }
    yield { kind: 'intercept', step: 'connect:ready', info: {} }
    const lossy = (reply.flags & CONNECT_LOSSY) !== 0
    if (lossy !== policy.lossy) policy = policy.with({ lossy })
    if (!session.clientOpened(reply.globalSeq, lossy, reply.connectSeq)) {
      throw new MessengerError(MessengerErrorCode.BAD_CONNECT_SEQ, `connect_seq ${session.connectSeq} != reply ${reply.connectSeq}`)
    }
    const features = policy.featuresSupported & reply.features
    dec.setNegotiatedFeatures(features)
    return { kind: 'ready', policy, features, tail }
  }
}
