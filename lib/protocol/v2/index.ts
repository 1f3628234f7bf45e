// msgr2.1 as a WireProtocol: per socket, a V2Link (frame source + encoder, switched to secure
// mode after auth) made by client()/accept(); per session, cookies and the peer's name kept by
// this protocol instance, keyed by the Session object. The edge must use the writer factory
// that client() returns, or the one on the accepted socket's PendingOpen: only they know the
// socket's encoder (WireProtocol.writer cannot, and throws).
import type { AuthClient, AuthServer } from '../../auth/auth-provider.ts'
import type { RandomSource } from '../../auth/environment.ts'
import type { EntityAddr } from '../../wire/entity-addr.ts'
import type { EntityName } from '../../wire/entity-name.ts'
import type { WireProtocol } from '../wire-protocol.ts'
import { clientHandshakeV2 } from './client.ts'
import { v2Limits } from './frame-source.ts'
import { V2Link, V2SessionStates, v2Random } from './link.ts'
import type { V2Random } from './link.ts'
import { acceptV2 } from './server.ts'
import { SessionWriterV2 } from './session-writer.ts'

export interface ProtocolV2Options {
  /** Our entity name: its type goes in HELLO, its num is the gid of our idents. */
  name: EntityName | (() => EntityName)
  /**
   * Client side: the auth providers to offer, best first (a fresh set per connection: a
   * provider holds one conversation). AUTH_BAD_METHOD moves on to the next one the server allows.
   * Connection modes are the providers' (CephxAuthClient's preferredModes).
   */
  authClient?: () => AuthClient | readonly AuthClient[]
  /** Server side: the methods and modes we accept (MonAuthServer). */
  authServer?: AuthServer
  /** Our addresses for the idents; default: the edge's myAddr (a blank IP is filled from HELLO). */
  addrs?: () => readonly EntityAddr[]
  /** Cookie randomness (default: node:crypto). */
  random?: RandomSource | V2Random
}

export interface ProtocolV2 extends WireProtocol {
  /** The per-session records (cookies, peer name), for inspection by tests and tools. */
  readonly sessions: V2SessionStates
}

function isV2Random (r: RandomSource | V2Random): r is V2Random {
  return typeof (r as V2Random).cookie === 'function'
}

export function protocolV2 (opts: ProtocolV2Options): ProtocolV2 {
  const sessions = new V2SessionStates()
  const random = opts.random === undefined ? v2Random() : isV2Random(opts.random) ? opts.random : v2Random(opts.random)
  const nameOf = (): EntityName => typeof opts.name === 'function' ? opts.name() : opts.name
  return {
    name: 'v2',
    sessions,
    client (ctx, dec) {
      if (opts.authClient === undefined) throw new Error('protocolV2: no authClient to connect with')
      const p = opts.authClient()
      const providers: readonly AuthClient[] = Array.isArray(p) ? p : [p as AuthClient]
      const link = new V2Link(v2Limits(dec))
      return {
        source: link.source,
        handshake: clientHandshakeV2(ctx, { link, providers, name: nameOf(), addrs: opts.addrs?.(), random, states: sessions }),
        writer: (features, crc) => new SessionWriterV2(link, ctx.session, features, crc)
      }
    },
    accept (ctx, dec) {
      if (opts.authServer === undefined) throw new Error('protocolV2: no authServer to accept with')
      const link = new V2Link(v2Limits(dec))
      return {
        source: link.source,
        handshake: acceptV2(ctx, { link, auth: opts.authServer, name: nameOf(), addrs: opts.addrs?.(), random, states: sessions })
      }
    },
    writer: () => {
      throw new Error('protocolV2: use the writer factory of the socket (client() result or PendingOpen.writer)')
    }
  }
}

export { clientHandshakeV2 } from './client.ts'
export { acceptV2, serverOpenV2 } from './server.ts'
export type { PendingV2 } from './server.ts'
export { decideIdent, decideReconnect } from './session-decision.ts'
export type { ExistingV2, IdentDecision, IdentInput, ReconnectDecision, ReconnectInput } from './session-decision.ts'
export { V2FrameSource, V2_READ } from './frame-source.ts'
export { V2Link, V2SessionStates, v2Random } from './link.ts'
export type { V2Random, V2SessionState } from './link.ts'
export { SessionWriterV2 } from './session-writer.ts'
export { SignatureError } from './sign.ts'
