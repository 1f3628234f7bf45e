// What a msgr2 protocol calls during its AUTH_* phase. Payloads here are the `bufferlist` contents
// of the frames; framing is the protocol's business. Everything is synchronous.
//
// Mode choice (ceph AuthRegistry::pick_mode): the server takes the first of the client's preferred
// modes that it allows; none in common → the protocol answers AUTH_BAD_METHOD. Auth none only ever
// allows crc (it has no key for secure mode).
import type { AuthEntityName } from './cephx-messages.ts'
import type { CryptoKey } from './crypto-key.ts'
import { AuthError, AuthErrorCode } from './errors.ts'

/** The AUTH_REQUEST fields a client sends. */
export interface AuthRequest {
  method: number
  preferredModes: number[]
  payload: Uint8Array
}

/** What a finished handshake gives the protocol. */
export interface AuthOutcome {
  globalId: bigint
  conMode: number
  /** Keys AUTH_SIGNATURE; absent for auth none (the signature is then 32 zero bytes). */
  sessionKey?: CryptoKey
  /** Secure-mode key material; empty in crc mode. */
  connectionSecret: Uint8Array
  /** Server side: who authenticated, and (cephx) the caps from the keyring. */
  entity?: AuthEntityName
  caps?: ReadonlyMap<string, string>
}

export interface AuthClient {
  readonly method: number
  readonly preferredModes: readonly number[]
  /** AUTH_REQUEST. */
  buildRequest: () => AuthRequest
  /** AUTH_REPLY_MORE payload → AUTH_REQUEST_MORE payload. */
  handleReplyMore: (payload: Uint8Array) => Uint8Array
  /** AUTH_DONE fields → outcome. Throws BAD_MODE for a mode the client did not offer. */
  handleDone: (globalId: bigint, conMode: number, payload: Uint8Array) => AuthOutcome
}

/** A server step: send AUTH_REPLY_MORE, or AUTH_DONE and finish. */
export type AuthServerStep =
  | { kind: 'more', payload: Uint8Array }
  | { kind: 'done', payload: Uint8Array, outcome: AuthOutcome }

/** One connection's server-side handshake. */
export interface AuthServerConversation {
  /** AUTH_REQUEST. Throws BAD_METHOD / BAD_MODE (answer AUTH_BAD_METHOD) or another AuthError. */
  handleRequest: (method: number, preferredModes: readonly number[], payload: Uint8Array) => AuthServerStep
  /** AUTH_REQUEST_MORE. */
  handleRequestMore: (payload: Uint8Array) => AuthServerStep
}

export interface AuthServer {
  /** Methods offered, for AUTH_BAD_METHOD. */
  readonly allowedMethods: readonly number[]
  /** Modes allowed with a method, for AUTH_BAD_METHOD. */
  allowedModes: (method: number) => readonly number[]
  /** State for a new connection. */
  accept: () => AuthServerConversation
}

/** The first of the client's preferred modes the server allows; BAD_MODE when there is none. */
export function pickMode (preferred: readonly number[], allowed: readonly number[]): number {
  for (const m of preferred) if (allowed.includes(m)) return m
  throw new AuthError(AuthErrorCode.BAD_MODE, `no common connection mode (client [${preferred.join(',')}], server [${allowed.join(',')}])`)
}

/** A client accepts only a mode it offered: a server ignoring the list is refused. */
export function checkOfferedMode (conMode: number, offered: readonly number[]): void {
  if (!offered.includes(conMode)) throw new AuthError(AuthErrorCode.BAD_MODE, `server chose mode ${conMode}, not offered`)
}
