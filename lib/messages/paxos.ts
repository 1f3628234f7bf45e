// The fields every PaxosServiceMessage (MAuth among them) puts first in its front:
// u64 version, s16 deprecated_session_mon (−1), u64 deprecated_session_mon_tid (ceph
// src/messages/PaxosServiceMessage.h; order confirmed against a real MAuth).
import type { Decoder, Encoder } from './denc.ts'

export interface PaxosFields {
  /** The paxos version the sender has seen (0 for clients). */
  paxosVersion: bigint
  /** Unused by modern Ceph; always −1 on the wire. */
  deprecatedSessionMon: number
  deprecatedSessionMonTid: bigint
}

export function defaultPaxosFields (): PaxosFields {
  return { paxosVersion: 0n, deprecatedSessionMon: -1, deprecatedSessionMonTid: 0n }
}

export function encodePaxos (enc: Encoder, p: PaxosFields): void {
  enc.u64(p.paxosVersion).s16(p.deprecatedSessionMon).u64(p.deprecatedSessionMonTid)
}

export function decodePaxos (dec: Decoder): PaxosFields {
  const paxosVersion = dec.u64()
  const deprecatedSessionMon = dec.s16()
  return { paxosVersion, deprecatedSessionMon, deprecatedSessionMonTid: dec.u64() }
}
