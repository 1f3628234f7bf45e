// Shared helpers for the auth specs: deterministic randomness, a settable clock, a test keyring and
// an assertion that records every AuthError so a spec can check none of them leaks a secret.
import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { inspect } from 'node:util'
import { AuthError, CryptoKey, Keyring, isAuthError } from '../../lib/auth/index.ts'
import type { AuthErrorCodeValue, Clock, RandomSource } from '../../lib/auth/index.ts'

/** A seeded byte stream (sha256 in counter mode): deterministic yet unstructured. */
export function seededRandom (seed: string): RandomSource {
  let counter = 0
  return {
    bytes: (n) => {
      const out = new Uint8Array(n)
      for (let at = 0; at < n; at += 32) {
        const block = createHash('sha256').update(`${seed}/${counter++}`).digest()
        out.set(block.subarray(0, Math.min(32, n - at)), at)
      }
      return out
    }
  }
}

export class TestClock implements Clock {
  ms: number
  constructor (ms = 1_700_000_000_000) {
    this.ms = ms
  }

  now (): number {
    return this.ms
  }

  advance (seconds: number): void {
    this.ms += seconds * 1000
  }
}

export const ADMIN = { type: 8, id: 'admin' }

export function testKeyring (random: RandomSource): Keyring {
  const ring = new Keyring()
  const created = { sec: 1_700_000_000, nsec: 0 }
  ring.set({ entity: ADMIN, key: CryptoKey.generate(random, created), caps: new Map([['mon', 'allow *'], ['osd', 'allow rwx'], ['mgr', 'allow r']]) })
  ring.set({ entity: { type: 8, id: 'nocaps' }, key: CryptoKey.generate(random, created), caps: new Map() })
  return ring
}

/** Every AuthError seen by expectAuthError, for the leak check. */
export const seenErrors: AuthError[] = []

export function expectAuthError (fn: () => unknown, code: AuthErrorCodeValue): AuthError {
  let caught: unknown
  try {
    fn()
  } catch (e) {
    caught = e
  }
  assert.ok(isAuthError(caught), `expected AuthError ${code}, got ${inspect(caught)}`)
  assert.equal(caught.code, code, caught.message)
  seenErrors.push(caught)
  return caught
}

/** Every textual form a secret could leak in. */
export function secretForms (secret: Uint8Array): string[] {
  const b = Buffer.from(secret)
  return [b.toString('hex'), b.toString('hex').toUpperCase(), b.toString('base64'), b.toString('base64').replace(/=+$/, '')]
}

export function assertNoLeak (text: string, secrets: readonly Uint8Array[]): void {
  for (const s of secrets) {
    for (const form of secretForms(s)) assert.ok(!text.includes(form), `secret leaked in: ${text.slice(0, 200)}`)
    // Also the bytes as a list of numbers, as inspect prints a Uint8Array.
    assert.ok(!text.includes([...s].join(', ')), 'secret bytes leaked as a number list')
  }
}
