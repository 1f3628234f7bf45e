// The server half of the v1 handshake up to the decision (ProtocolV1 accept path): send banner
// and addresses, read the client's, then read connect messages and answer them until one opens
// a session (a new Connection, or an existing one that takes the socket over) or is refused.
import { decideAccept } from '../session/accept.ts'
import type { ExistingSession } from '../session/accept.ts'
import type { Policy } from '../session/policy.ts'
import { Tag, tagName } from '../wire/constants.ts'
import type { ConnectMsg } from '../wire/connect.ts'
import { encodeConnectReply } from '../wire/connect.ts'
import type { DecoderRole, FrameDecoder } from '../wire/decoder.ts'
import { encodeServerHello } from '../wire/encoder.ts'
import { AF_INET, AF_INET6, AddrType, compareEntityAddr, formatEntityAddr, isBlankIp } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import type { Frame } from '../wire/frame.ts'
import type { MessengerConfig } from './config.ts'
import type { Connection } from './connection.ts'
import { MessengerError, MessengerErrorCode } from './errors.ts'
import { FrameReader } from './frame-reader.ts'
import type { Logger } from './logger.ts'
import type { MsgrSocket } from './socket.ts'

export interface AcceptHost {
  readonly config: MessengerConfig
  readonly log: Logger
  readonly myAddr: EntityAddr
  policyFor: (peerType: number) => Policy
  protocolVersion: (peerType: number, connecting: boolean) => number
  /** The session we hold with a peer at this address, if any (lossless sessions only). */
  lookup: (peerAddr: EntityAddr) => Connection | undefined
  /** Create, register and return a new incoming Connection. */
  newIncoming: (peerAddr: EntityAddr, peerType: number, policy: Policy) => Connection
  onAcceptFailed: (err: unknown) => void
  newDecoder: (role: DecoderRole, features?: bigint) => FrameDecoder
}

function socketAddr (ip: string, port: number, family: number, nonce = 0): EntityAddr {
  return { type: AddrType.LEGACY, nonce, family: family === 6 ? AF_INET6 : AF_INET, ip, port }
}

function describe (c: Connection): ExistingSession {
  return {
    connectSeq: c.session.connectSeq,
    peerGlobalSeq: c.session.peerGlobalSeq,
    lossy: c.session.lossy,
    connecting: c.state === 'connecting' || c.state === 'wait',
    established: c.state === 'open' || c.state === 'standby',
    closed: c.state === 'closed',
    replacing: c.replacing,
    policyServer: c.policy.server
  }
}

async function expectFrame (reader: FrameReader, kind: Frame['kind']): Promise<Frame> {
  const f = await reader.next()
  if (f.kind !== kind) throw new MessengerError(MessengerErrorCode.SOCKET_ERROR, `expected ${kind}, got ${f.kind}`)
  return f
}

/** Run the accept handshake on a new socket. Never throws: failures close the socket. */
export async function acceptConnection (host: AcceptHost, sock: MsgrSocket): Promise<void> {
  const cfg = host.config
  const reader = new FrameReader(sock, host.newDecoder('server'))
  let timer: unknown
  const arm = (): void => {
    if (timer !== undefined) cfg.timers.clearTimeout(timer)
    if (cfg.handshakeTimeoutMs > 0) {
      timer = cfg.timers.setTimeout(() => {
        sock.destroy(new MessengerError(MessengerErrorCode.HANDSHAKE_TIMEOUT, 'accept handshake step timed out'))
      }, cfg.handshakeTimeoutMs)
    }
  }
  const disarm = (): void => { if (timer !== undefined) cfg.timers.clearTimeout(timer); timer = undefined }
  arm()
  try {
    const me = isBlankIp(host.myAddr)
      ? { ...host.myAddr, ...socketAddr(sock.local.ip, host.myAddr.port || sock.local.port, sock.local.family, host.myAddr.nonce) }
      : host.myAddr
    const seen = socketAddr(sock.remote.ip, sock.remote.port, sock.remote.family)
    sock.write([encodeServerHello(me, seen)])
    await expectFrame(reader, 'banner')
    arm()
    const af = await expectFrame(reader, 'addr')
    arm()
    if (af.kind !== 'addr') throw new Error('unreachable')
    // A client that does not know its IP claims a blank one: use what the socket says, keep
    // its port and nonce.
    let peerAddr = af.addr
    if (isBlankIp(peerAddr)) peerAddr = { ...socketAddr(sock.remote.ip, peerAddr.port, sock.remote.family, peerAddr.nonce) }
    while (true) {
      const cf = await expectFrame(reader, 'connect')
      arm()
      if (cf.kind !== 'connect') throw new Error('unreachable')
      const connect: ConnectMsg = cf.connect
      const ic = cfg.interceptor
      if (ic !== undefined && await ic.intercept('accept:connect', { peer: peerAddr, connectSeq: connect.connectSeq, globalSeq: connect.globalSeq }) === 'fail') {
        throw new MessengerError(MessengerErrorCode.INJECTED, 'interceptor failed the connection at accept:connect')
      }
      const policy = host.policyFor(connect.hostType)
      const myProto = host.protocolVersion(connect.hostType, false)
      const existing = policy.server && policy.lossy ? undefined : host.lookup(peerAddr)
      const decision = decideAccept({
        connect,
        myProtocol: myProto,
        policy,
        required: policy.featuresRequired,
        existing: existing === undefined ? undefined : describe(existing),
        peerAddrLower: compareEntityAddr(peerAddr, host.myAddr) < 0
      })
      if (ic !== undefined && await ic.intercept('accept:decision', { peer: peerAddr, action: decision.action, ...(decision.action === 'retry' || decision.action === 'refuse' ? { tag: tagName(decision.tag) } : {}), connectSeq: connect.connectSeq, globalSeq: connect.globalSeq }) === 'fail') {
        throw new MessengerError(MessengerErrorCode.INJECTED, 'interceptor failed the connection at accept:decision')
      }
      host.log.trace('ms', 'accept decision', { peer: formatEntityAddr(peerAddr), ...decision, gseq: connect.globalSeq, cseq: connect.connectSeq })
      if (decision.action === 'retry' || decision.action === 'refuse') {
        sock.write([encodeConnectReply({
          tag: decision.tag,
          features: (connect.features & policy.featuresSupported) | policy.featuresRequired,
          globalSeq: decision.action === 'retry' ? decision.globalSeq ?? 0 : 0,
          connectSeq: decision.action === 'retry' ? decision.connectSeq ?? 0 : 0,
          protocolVersion: myProto,
          flags: 0
        })])
        if (decision.action === 'refuse') {
          host.log.info('ms', 'refused connection', { peer: formatEntityAddr(peerAddr), tag: tagName(decision.tag), reason: decision.reason })
          disarm()
          sock.end()
          // Give the client a moment to read the reply, then make sure the socket is gone.
          cfg.timers.setTimeout(() => { sock.destroy() }, 1000)
          return
        }
        reader.dec.expect('connect')
        continue
      }
      disarm()
      if (decision.action === 'open') {
        const conn = host.newIncoming(peerAddr, connect.hostType, policy)
        conn.adopt(sock, reader, connect, false)
      } else {
        (existing as Connection).adopt(sock, reader, connect, decision.reset)
      }
      return
    }
  } catch (e) {
    disarm()
    sock.destroy()
    host.onAcceptFailed(e)
  }
}

export { Tag }
