// The cephx client proof and the msgr2 AUTH_SIGNATURE.
//
// Proof (cephx_calc_client_server_challenge, ceph src/auth/cephx/CephxProtocol.cc): encode_encrypt
// the CephXChallengeBlob {u64 server_challenge, u64 client_challenge} with the client's long-term
// key and XOR together the little-endian u64 words of the resulting bufferlist encoding, u32 length
// prefix included; a tail shorter than 8 bytes is ignored. 4 + 32 bytes → words at 0, 8, 16, 24.
//
// AUTH_SIGNATURE: HMAC-SHA256 keyed by the session key's 16 secret bytes over every byte received
// from the peer before its AUTH_SIGNATURE frame; 32 zero bytes when there is no session key (auth
// none).
import { createHmac } from 'node:crypto'
import { Encoder } from '../messages/denc.ts'
import { encodeEncrypt } from './cephx-crypto.ts'
import { constantTimeEqual } from './crypto-key.ts'
import type { CryptoKey } from './crypto-key.ts'

export const AUTH_SIGNATURE_LEN = 32

export function clientProof (key: CryptoKey, serverChallenge: bigint, clientChallenge: bigint): bigint {
  const blob = new Encoder(16).u64(serverChallenge).u64(clientChallenge).finish()
  const enc = encodeEncrypt(key, blob)
  const view = new DataView(enc.buffer, enc.byteOffset, enc.byteLength)
  let k = 0n
  for (let pos = 0; pos + 8 <= enc.length; pos += 8) k ^= view.getBigUint64(pos, true)
  return k
}

/** Compare two proofs without a data-dependent early exit. */
export function proofsEqual (a: bigint, b: bigint): boolean {
  return constantTimeEqual(new Encoder(8).u64(a).finish(), new Encoder(8).u64(b).finish())
}

/** The AUTH_SIGNATURE value over the given byte ranges (concatenated in order). */
export function authSignature (sessionKey: CryptoKey | undefined, chunks: readonly Uint8Array[]): Uint8Array {
  if (sessionKey === undefined) return new Uint8Array(AUTH_SIGNATURE_LEN)
  const h = createHmac('sha256', sessionKey.secretBytes())
  for (const c of chunks) h.update(c)
  return new Uint8Array(h.digest())
}

/** Check a peer's AUTH_SIGNATURE against the bytes we sent it, in constant time. */
export function verifyAuthSignature (sessionKey: CryptoKey | undefined, chunks: readonly Uint8Array[], signature: Uint8Array): boolean {
  return constantTimeEqual(authSignature(sessionKey, chunks), signature)
}
