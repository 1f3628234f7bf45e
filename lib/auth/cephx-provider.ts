// cephx and none behind the AuthClient / AuthServer interfaces, for a mon and its clients.
import { NONE_MODES, NoneServerConversation } from './auth-none.ts'
import { checkOfferedMode, pickMode } from './auth-provider.ts'
import type { AuthClient, AuthOutcome, AuthRequest, AuthServer, AuthServerConversation, AuthServerStep } from './auth-provider.ts'
import { CephxClient } from './cephx-client.ts'
import type { CephxAuthResult, CephxClientOptions } from './cephx-client.ts'
import { AuthMethod, ConMode, connectionSecretLength } from './cephx-messages.ts'
import type { CephxServer, CephxServerSession } from './cephx-server.ts'
import { AuthError, AuthErrorCode } from './errors.ts'

/** ms_mon_client_mode / ms_mon_service_mode default: "secure crc". */
export const DEFAULT_MON_MODES: readonly number[] = [ConMode.SECURE, ConMode.CRC]

export interface CephxAuthClientOptions extends CephxClientOptions {
  preferredModes?: readonly number[]
}

export class CephxAuthClient implements AuthClient {
  readonly method = AuthMethod.CEPHX
  readonly preferredModes: readonly number[]
  readonly #client: CephxClient
  /** The full result (tickets, renewal time) once AUTH_DONE has been handled. */
  result: CephxAuthResult | undefined

  constructor (opts: CephxAuthClientOptions) {
    this.preferredModes = [...(opts.preferredModes ?? DEFAULT_MON_MODES)]
    this.#client = new CephxClient(opts)
  }

  buildRequest (): AuthRequest {
    return { method: this.method, preferredModes: [...this.preferredModes], payload: this.#client.start() }
  }

  handleReplyMore (payload: Uint8Array): Uint8Array {
    return this.#client.handleReplyMore(payload)
  }

  handleDone (globalId: bigint, conMode: number, payload: Uint8Array): AuthOutcome {
    checkOfferedMode(conMode, this.preferredModes)
    const r = this.#client.handleDone(globalId, conMode, payload)
    this.result = r
    return { globalId: r.globalId, conMode: r.conMode, sessionKey: r.sessionKey, connectionSecret: r.connectionSecret }
  }
}

export interface MonAuthServerOptions {
  cephx?: CephxServer
  allowNone?: boolean
  /** Modes accepted, default secure then crc. */
  modes?: readonly number[]
  /** Global ids for auth none clients; default: the cephx server's allocator, or a counter from 4096. */
  allocateGlobalId?: () => bigint
}

/** A mon's auth_service_required: cephx and/or none. */
export class MonAuthServer implements AuthServer {
  readonly allowedMethods: readonly number[]
  readonly #cephx: CephxServer | undefined
  readonly #modes: readonly number[]
  readonly #allocate: () => bigint

  constructor (opts: MonAuthServerOptions) {
    this.#cephx = opts.cephx
    this.#modes = [...(opts.modes ?? DEFAULT_MON_MODES)]
    const methods: number[] = []
    if (opts.cephx !== undefined) methods.push(AuthMethod.CEPHX)
    if (opts.allowNone === true) methods.push(AuthMethod.NONE)
    this.allowedMethods = methods
    let next = 4096n
    this.#allocate = opts.allocateGlobalId ?? opts.cephx?.allocateGlobalId ?? (() => next++)
  }

  allowedModes (method: number): readonly number[] {
    if (!this.allowedMethods.includes(method)) return []
    return method === AuthMethod.NONE ? this.#modes.filter((m) => NONE_MODES.includes(m)) : this.#modes
  }

  accept (): AuthServerConversation {
    return new MonAuthConversation(this, this.#cephx, this.#allocate)
  }
}

class MonAuthConversation implements AuthServerConversation {
  readonly #server: MonAuthServer
  readonly #cephx: CephxServer | undefined
  readonly #allocate: () => bigint
  #session: CephxServerSession | undefined
  #conMode = 0

  constructor (server: MonAuthServer, cephx: CephxServer | undefined, allocate: () => bigint) {
    this.#server = server
    this.#cephx = cephx
    this.#allocate = allocate
  }

  handleRequest (method: number, preferredModes: readonly number[], payload: Uint8Array): AuthServerStep {
    if (!this.#server.allowedMethods.includes(method)) throw new AuthError(AuthErrorCode.BAD_METHOD, `method ${method} not allowed`)
    if (this.#session !== undefined) throw new AuthError(AuthErrorCode.BAD_STATE, 'auth request already handled')
    const conMode = pickMode(preferredModes, this.#server.allowedModes(method))
    if (method === AuthMethod.NONE || this.#cephx === undefined) {
      return new NoneServerConversation(this.#allocate).handleRequest(method, [conMode], payload)
    }
    this.#conMode = conMode
    this.#session = this.#cephx.session()
    return { kind: 'more', payload: this.#session.handleRequest(payload) }
  }

  handleRequestMore (payload: Uint8Array): AuthServerStep {
    if (this.#session === undefined) throw new AuthError(AuthErrorCode.BAD_STATE, 'no cephx handshake in progress')
    const r = this.#session.handleRequestMore(payload, connectionSecretLength(this.#conMode))
    const outcome: AuthOutcome = {
      globalId: r.globalId,
      conMode: this.#conMode,
      sessionKey: r.sessionKey,
      connectionSecret: r.connectionSecret,
      entity: r.entity,
      caps: r.caps
    }
    return { kind: 'done', payload: r.payload, outcome }
  }
}
