// Phase 2: authentication through the lib/auth providers. The client sends AUTH_REQUEST (method,
// preferred modes, payload) and answers each AUTH_REPLY_MORE with AUTH_REQUEST_MORE until
// AUTH_DONE; AUTH_BAD_METHOD makes it try its next provider among those the server allows. The
// server answers from an AuthServerConversation. The framing turns secure at the frame boundary
// where each side's plaintext ends: the server reads secure after the client's last
// AUTH_REQUEST(_MORE) and writes secure after its AUTH_DONE; the client does both on AUTH_DONE.
import { isAuthError, AuthErrorCode } from '../../auth/errors.ts'
import type { AuthClient, AuthOutcome, AuthServer, AuthServerConversation, AuthServerStep } from '../../auth/auth-provider.ts'
import { ConMode, Tag } from '../../wire-v2/constants.ts'
import { secureCiphers } from '../../wire-v2/gcm.ts'
import type { Frame } from '../../wire/frame.ts'
import type { HandshakeStep } from '../handshake.ts'
import { MessengerError, MessengerErrorCode } from '../errors.ts'
import { readControl, unexpected } from './link.ts'
import type { V2Link } from './link.ts'

const EOPNOTSUPP = 95
const EACCES = 13
/** AUTH_REQUESTs a server answers with AUTH_BAD_METHOD before it gives up on the socket. */
const MAX_AUTH_ATTEMPTS = 4

function goSecure (link: V2Link, outcome: AuthOutcome, role: 'client' | 'server', side: 'rx' | 'tx' | 'both'): void {
  if (outcome.conMode !== ConMode.SECURE) return
  const c = secureCiphers(outcome.connectionSecret, role)
  if (side !== 'tx') link.source.dec.enableSecure(c.rx)
  if (side !== 'rx') link.enc.enableSecure(c.tx)
}

/** The client's auth phase with its providers, best first. Returns what AUTH_DONE gave. */
export function * clientAuth (link: V2Link, providers: readonly AuthClient[]): Generator<HandshakeStep, AuthOutcome, Frame | undefined> {
  if (providers.length === 0) throw new MessengerError(MessengerErrorCode.REFUSED, 'no auth method to offer')
  const tried = new Set<AuthClient>()
  let client = providers[0]
  while (true) {
    tried.add(client)
    const req = client.buildRequest()
    yield link.write({ tag: Tag.AUTH_REQUEST, method: req.method, preferredModes: req.preferredModes, payload: req.payload })
    let next: AuthClient | undefined
    while (next === undefined) {
      const f = yield * readControl(link)
      if (f.tag === Tag.AUTH_REPLY_MORE) {
        yield link.write({ tag: Tag.AUTH_REQUEST_MORE, payload: client.handleReplyMore(f.payload) })
      } else if (f.tag === Tag.AUTH_DONE) {
        const outcome = client.handleDone(f.globalId, f.conMode, f.payload)
        link.conMode = outcome.conMode
        goSecure(link, outcome, 'client', 'both')
        yield { kind: 'trace', what: 'auth done', fields: { method: client.method, conMode: outcome.conMode, globalId: outcome.globalId } }
        return outcome
      } else if (f.tag === Tag.AUTH_BAD_METHOD) {
        yield { kind: 'trace', what: 'auth bad method', fields: { method: f.method, result: f.result, allowedMethods: f.allowedMethods, allowedModes: f.allowedModes } }
        next = providers.find((p) => !tried.has(p) && f.allowedMethods.includes(p.method) &&
          (f.allowedModes.length === 0 || p.preferredModes.some((m) => f.allowedModes.includes(m))))
        if (next === undefined) {
          const err = new MessengerError(MessengerErrorCode.REFUSED, `peer refused auth method ${f.method} (result ${f.result}; allows methods [${f.allowedMethods.join(',')}], modes [${f.allowedModes.join(',')}])`)
          throw Object.assign(err, { tag: 'AUTH_BAD_METHOD' })
        }
      } else {
        throw unexpected(f, 'AUTH_REPLY_MORE or AUTH_DONE')
      }
    }
    client = next
  }
}

/** The server's auth phase. Returns the outcome once AUTH_DONE is written. */
export function * serverAuth (link: V2Link, server: AuthServer): Generator<HandshakeStep, AuthOutcome, Frame | undefined> {
  for (let attempt = 0; attempt < MAX_AUTH_ATTEMPTS; attempt++) {
    const f = yield * readControl(link)
    if (f.tag !== Tag.AUTH_REQUEST) throw unexpected(f, 'AUTH_REQUEST')
    const conv: AuthServerConversation = server.accept()
    let step: AuthServerStep | undefined
    let err: unknown
    try {
      step = conv.handleRequest(f.method, f.preferredModes, f.payload)
      while (step.kind === 'more') {
        yield link.write({ tag: Tag.AUTH_REPLY_MORE, payload: step.payload })
        const more = yield * readControl(link)
        if (more.tag !== Tag.AUTH_REQUEST_MORE) throw unexpected(more, 'AUTH_REQUEST_MORE')
        step = conv.handleRequestMore(more.payload)
      }
    } catch (e) {
      if (!isAuthError(e)) throw e
      err = e
    }
    if (step === undefined || step.kind !== 'done') {
      // Ceph answers every refusal of the auth server with AUTH_BAD_METHOD and reads on.
      const code = isAuthError(err) ? err.code : ''
      const result = code === AuthErrorCode.BAD_METHOD || code === AuthErrorCode.BAD_MODE ? -EOPNOTSUPP : -EACCES
      yield { kind: 'trace', what: 'auth refused', fields: { method: f.method, code } }
      yield link.write({
        tag: Tag.AUTH_BAD_METHOD,
        method: f.method,
        result,
        allowedMethods: [...server.allowedMethods],
        allowedModes: [...server.allowedModes(server.allowedMethods.includes(f.method) ? f.method : server.allowedMethods[0] ?? 0)]
      })
      continue
    }
    const outcome = step.outcome
    link.conMode = outcome.conMode
    // The client's next frame (AUTH_SIGNATURE) is already encrypted; AUTH_DONE is not.
    goSecure(link, outcome, 'server', 'rx')
    yield link.write({ tag: Tag.AUTH_DONE, globalId: outcome.globalId, conMode: outcome.conMode, payload: step.payload })
    goSecure(link, outcome, 'server', 'tx')
    yield { kind: 'trace', what: 'auth done', fields: { method: f.method, conMode: outcome.conMode, globalId: outcome.globalId } }
    return outcome
  }
  throw new MessengerError(MessengerErrorCode.REFUSED, `no acceptable AUTH_REQUEST in ${MAX_AUTH_ATTEMPTS} attempts`)
}
