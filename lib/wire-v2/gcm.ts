// AES-128-GCM for secure mode, behind a small seam (GcmCipher) so a faster implementation (a
// native binding, a batched one) can replace node:crypto later without touching the framing.
//
// rev1 nonces (linux struct ceph_gcm_nonce): 12 bytes = u32 fixed + u64 little-endian counter,
// and the counter goes up by one after EVERY AEAD operation (a frame takes 1, 2 or 3). No AAD,
// 16-byte tags. The msgr2.0 scheme (one ++ of the first u32 per frame) is not this.
import { createCipheriv, createDecipheriv, createSecretKey } from 'node:crypto'
import type { KeyObject } from 'node:crypto'
import { CONNECTION_SECRET_LEN, GCM_KEY_LEN, GCM_NONCE_LEN, GCM_TAG_LEN } from './constants.ts'

/** One direction of a secure connection: a key and that direction's nonce sequence. */
export interface GcmCipher {
  /**
   * Encrypt the concatenation of `parts` under the next nonce. Returns the ciphertext (possibly
   * in several pieces) followed by the 16-byte tag as the last element.
   */
  seal (parts: readonly Uint8Array[]): Uint8Array[]
  /**
   * Decrypt `ct` (without its tag) under the next nonce and check `tag`. Returns the plaintext,
   * or undefined when authentication fails (no detail, on purpose).
   */
  open (ct: Uint8Array, tag: Uint8Array): Uint8Array | undefined
}

function bytes (b: Buffer): Uint8Array {
  return new Uint8Array(b.buffer, b.byteOffset, b.length)
}

/** The node:crypto implementation: one Cipher/Decipher object per operation (node has no reusable context). */
export class NodeGcm implements GcmCipher {
  private readonly key: KeyObject
  private readonly nonce: Buffer
  private readonly nv: DataView

  constructor (key: Uint8Array, nonce: Uint8Array) {
    if (key.length !== GCM_KEY_LEN) throw new RangeError(`AES-128-GCM key must be ${GCM_KEY_LEN} bytes`)
    if (nonce.length !== GCM_NONCE_LEN) throw new RangeError(`GCM nonce must be ${GCM_NONCE_LEN} bytes`)
    this.key = createSecretKey(key)
    this.nonce = Buffer.from(nonce)
    this.nv = new DataView(this.nonce.buffer, this.nonce.byteOffset, GCM_NONCE_LEN)
  }

  /** counter (LE u64 at bytes 4..11) += 1, wrapping like the kernel's le64_add_cpu. */
  private step (): void {
    const lo = (this.nv.getUint32(4, true) + 1) >>> 0
    this.nv.setUint32(4, lo, true)
    if (lo === 0) this.nv.setUint32(8, (this.nv.getUint32(8, true) + 1) >>> 0, true)
  }

  seal (parts: readonly Uint8Array[]): Uint8Array[] {
    const c = createCipheriv('aes-128-gcm', this.key, this.nonce, { authTagLength: GCM_TAG_LEN })
    this.step()
    const out: Uint8Array[] = []
    for (const p of parts) {
      if (p.length === 0) continue
      const ct = c.update(p)
      if (ct.length > 0) out.push(bytes(ct))
    }
    const fin = c.final()
    if (fin.length > 0) out.push(bytes(fin))
    out.push(bytes(c.getAuthTag()))
    return out
  }

  open (ct: Uint8Array, tag: Uint8Array): Uint8Array | undefined {
    const d = createDecipheriv('aes-128-gcm', this.key, this.nonce, { authTagLength: GCM_TAG_LEN })
    this.step()
    d.setAuthTag(tag)
    const pt = d.update(ct)
    try {
      d.final()
    } catch {
      return undefined
    }
    return bytes(pt)
  }
}

export type Role = 'client' | 'server'

export interface SecureCiphers {
  /** Decrypts what the peer sends. */
  rx: GcmCipher
  /** Encrypts what we send. */
  tx: GcmCipher
}

/** Builds one direction; replace to swap the AES-GCM implementation. */
export type GcmFactory = (key: Uint8Array, nonce: Uint8Array) => GcmCipher

const nodeFactory: GcmFactory = (key, nonce) => new NodeGcm(key, nonce)

/**
 * Split a secure-mode connection_secret (64 bytes): key = [0, 16); the client receives with the
 * nonce at [16, 28) and sends with [28, 40); the server uses them crossed. [40, 64) is unused.
 */
export function secureCiphers (secret: Uint8Array, role: Role, factory: GcmFactory = nodeFactory): SecureCiphers {
  if (secret.length < 40) throw new RangeError(`connection_secret of ${secret.length} bytes, secure mode needs ${CONNECTION_SECRET_LEN}`)
  const key = secret.subarray(0, 16)
  const a = secret.subarray(16, 28)
  const b = secret.subarray(28, 40)
  return role === 'client'
    ? { rx: factory(key, a), tx: factory(key, b) }
    : { rx: factory(key, b), tx: factory(key, a) }
}
