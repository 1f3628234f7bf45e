// Auth method "none" (CEPH_AUTH_NONE) over msgr2: the AUTH_REQUEST payload is the same mon auth
// payload cephx uses, the server answers AUTH_DONE at once with an empty payload, there is no
// session key (AUTH_SIGNATURE is 32 zero bytes) and no connection secret, so only crc mode exists.
import { AuthMethod, AuthMode, ConMode, decodeMonAuthRequest, encodeMonAuthRequest } from './cephx-messages.ts'
import type { AuthEntityName } from './cephx-messages.ts'
import { checkOfferedMode, pickMode } from './auth-provider.ts'
import type { AuthClient, AuthOutcome, AuthRequest, AuthServerConversation, AuthServerStep } from './auth-provider.ts'
import { AuthError, AuthErrorCode } from './errors.ts'

const NONE_MODES: readonly number[] = [ConMode.CRC]

export class NoneAuthClient implements AuthClient {
  readonly method = AuthMethod.NONE
  readonly preferredModes: readonly number[] = NONE_MODES
  readonly #entity: AuthEntityName
  readonly #globalId: bigint

  constructor (entity: AuthEntityName, globalId = 0n) {
    this.#entity = entity
    this.#globalId = globalId
  }

  buildRequest (): AuthRequest {
    const payload = encodeMonAuthRequest({ authMode: AuthMode.MON, entity: this.#entity, globalId: this.#globalId })
    return { method: this.method, preferredModes: [...this.preferredModes], payload }
  }

  handleReplyMore (_payload: Uint8Array): Uint8Array {
    throw new AuthError(AuthErrorCode.BAD_STATE, 'auth none has no second round')
  }

  handleDone (globalId: bigint, conMode: number, _payload: Uint8Array): AuthOutcome {
    checkOfferedMode(conMode, this.preferredModes)
    return { globalId, conMode, connectionSecret: new Uint8Array(0) }
  }
}

/** Server side of auth none for one connection. */
export class NoneServerConversation implements AuthServerConversation {
  readonly #allocateGlobalId: () => bigint
  #done = false

  constructor (allocateGlobalId: () => bigint) {
    this.#allocateGlobalId = allocateGlobalId
  }

  handleRequest (method: number, preferredModes: readonly number[], payload: Uint8Array): AuthServerStep {
    if (method !== AuthMethod.NONE) throw new AuthError(AuthErrorCode.BAD_METHOD, `method ${method} is not none`)
    if (this.#done) throw new AuthError(AuthErrorCode.BAD_STATE, 'auth request already handled')
    this.#done = true
    const conMode = pickMode(preferredModes, NONE_MODES)
    const req = decodeMonAuthRequest(payload)
    const globalId = req.globalId !== 0n ? req.globalId : this.#allocateGlobalId()
    return { kind: 'done', payload: new Uint8Array(0), outcome: { globalId, conMode, connectionSecret: new Uint8Array(0), entity: req.entity } }
  }

  handleRequestMore (_payload: Uint8Array): AuthServerStep {
    throw new AuthError(AuthErrorCode.BAD_STATE, 'auth none has no second round')
  }
}

export { NONE_MODES }
