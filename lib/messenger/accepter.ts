// The Accepter's work on one incoming socket: run the protocol's accept handshake until it
// opens a session (a new Connection, or an existing one that takes the socket over) or refuses.
import { MessengerError, MessengerErrorCode } from '../protocol/errors.ts'
import type { ExistingSession } from '../protocol/v1/accept-decision.ts'
import type { DecoderConfig, WireProtocol } from '../protocol/wire-protocol.ts'
import type { Policy } from '../session/policy.ts'
import { AF_INET, AF_INET6, AddrType, formatEntityAddr, isBlankIp } from '../wire/entity-addr.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import type { MessengerConfig } from './config.ts'
import type { Connection } from './connection.ts'
import { driveHandshake } from './connection/handshake-driver.ts'
import { FrameReader } from './frame-reader.ts'
import type { Logger } from './logger.ts'
import type { MsgrSocket } from './socket.ts'

export interface AcceptHost {
  readonly config: MessengerConfig
  readonly log: Logger
  policyFor: (peerType: number) => Policy
  protocolVersion: (peerType: number, connecting: boolean) => number
  /** The session we hold with a peer at this address, if any (lossless sessions only). */
  lookup: (peerAddr: EntityAddr) => Connection | undefined
  /** Create, register and return a new incoming Connection speaking this protocol. */
  newIncoming: (peerAddr: EntityAddr, peerType: number, policy: Policy, protocol: WireProtocol) => Connection
  onAcceptFailed: (err: unknown) => void
  decoderConfig: (features?: bigint) => DecoderConfig
}

function socketAddr (ip: string, port: number, family: number, nonce = 0): EntityAddr {
  return { type: AddrType.LEGACY, nonce, family: family === 6 ? AF_INET6 : AF_INET, ip, port }
}

/** What the accept decision needs to know of a session we hold. */
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

/**
 * Run the accept handshake on a new socket that reached the listener bound at `local`. Never
 * throws: failures close the socket.
 */
export async function acceptConnection (host: AcceptHost, protocol: WireProtocol, sock: MsgrSocket, local: EntityAddr): Promise<void> {
  const cfg = host.config
  try {
    const me = isBlankIp(local)
      ? { ...socketAddr(sock.local.ip, local.port || sock.local.port, sock.local.family, local.nonce), type: local.type }
      : local
    const seen = socketAddr(sock.remote.ip, sock.remote.port, sock.remote.family)
    const { source, handshake } = protocol.accept<Connection>({
      myAddr: me,
      seenAddr: seen,
      policyFor: (t) => host.policyFor(t),
      protocolVersion: (t) => host.protocolVersion(t, false),
      lookup: (a) => {
        const c = host.lookup(a)
        return c === undefined ? undefined : { handle: c, state: describe(c), session: c.session }
      }
    }, host.decoderConfig())
    const reader = new FrameReader(sock, source)
    const r = await driveHandshake(handshake, {
      config: cfg,
      log: host.log,
      sock,
      reader,
      who: { peer: seen },
      unexpected: (expected, got) => new MessengerError(MessengerErrorCode.SOCKET_ERROR, `expected ${expected}, got ${got}`),
      write: (bufs) => { void sock.write(bufs) },
      sleep: (ms) => new Promise((resolve) => { cfg.timers.setTimeout(resolve, ms) })
    })
    switch (r.kind) {
      case 'refused':
        host.log.info('ms', 'refused connection', { peer: formatEntityAddr(r.peerAddr), tag: r.tag, reason: r.reason })
        sock.end()
        // Give the client a moment to read the reply, then make sure the socket is gone.
        cfg.timers.setTimeout(() => { sock.destroy() }, 1000)
        return
      case 'open':
        host.newIncoming(r.peerAddr, r.pending.peerType, r.policy, protocol).adopt(sock, reader, r.pending, false)
        return
      case 'replace':
        r.handle.adopt(sock, reader, r.pending, r.reset)
    }
  } catch (e) {
    sock.destroy()
    host.onAcceptFailed(e)
  }
}
