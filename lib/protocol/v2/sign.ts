// Phase 3: AUTH_SIGNATURE both ways. Each side sends HMAC-SHA256(session key) of every byte it
// received from the peer, the peer's banner included, up to the peer's AUTH_SIGNATURE; and
// checks the peer's against what it sent itself, in constant time. Without a session key
// (auth none) the signature is 32 zero bytes, and that is what is checked.
import { authSignature, verifyAuthSignature } from '../../auth/cephx-proof.ts'
import type { CryptoKey } from '../../auth/crypto-key.ts'
import { Tag } from '../../wire-v2/constants.ts'
import type { Frame } from '../../wire/frame.ts'
import type { HandshakeStep } from '../handshake.ts'
import { readControl, unexpected } from './link.ts'
import type { V2Link } from './link.ts'

export class SignatureError extends Error {
  override readonly name = 'SignatureError'
  readonly code = 'BAD_AUTH_SIGNATURE'
  constructor () {
    super('BAD_AUTH_SIGNATURE: the peer\'s AUTH_SIGNATURE does not match what we sent')
  }
}

export function * exchangeSignatures (link: V2Link, sessionKey: CryptoKey | undefined): Generator<HandshakeStep, void, Frame | undefined> {
  const ours = authSignature(sessionKey, link.rx)
  const sent = link.tx
  // Neither signature frame is covered by a signature.
  link.signing = false
  yield link.write({ tag: Tag.AUTH_SIGNATURE, signature: ours })
  const f = yield * readControl(link)
  if (f.tag !== Tag.AUTH_SIGNATURE) throw unexpected(f, 'AUTH_SIGNATURE')
  const ok = verifyAuthSignature(sessionKey, sent, f.signature)
  link.stopSigning()
  if (!ok) throw new SignatureError()
}
