// The two outside inputs the auth state machines need: randomness (challenges, session keys,
// connection secrets) and the time (ticket validity). Injected so tests are deterministic.
import { randomBytes } from 'node:crypto'
import type { Utime } from '../messages/denc.ts'

export interface RandomSource {
  /** n unpredictable bytes. */
  bytes: (n: number) => Uint8Array
}

export interface Clock {
  /** Milliseconds since the Unix epoch. */
  now: () => number
}

export const systemRandom: RandomSource = { bytes: (n) => new Uint8Array(randomBytes(n)) }
export const systemClock: Clock = { now: () => Date.now() }

/** A random u64 as Ceph's generate_random_number<uint64_t>() would give. */
export function randomU64 (random: RandomSource): bigint {
  const b = random.bytes(8)
  return new DataView(b.buffer, b.byteOffset, 8).getBigUint64(0, true)
}

export function utimeFromMs (ms: number): Utime {
  const sec = Math.floor(ms / 1000)
  const nsec = Math.round((ms - sec * 1000) * 1e6)
  // Rounding can reach a whole second.
  return nsec >= 1e9 ? { sec: sec + 1, nsec: nsec - 1e9 } : { sec, nsec }
}

export function utimeToMs (t: Utime): number {
  return t.sec * 1000 + t.nsec / 1e6
}
