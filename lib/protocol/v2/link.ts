// What one msgr2 socket carries through its handshake phases (created by client()/accept(),
// never shared): the frame source and encoder (their framing mode switches to secure after
// auth), the bytes each way that AUTH_SIGNATURE covers, and the peer as the handshake learns it.
// Beside it, what a v2 session keeps across its sockets (cookies, the peer's name, the features
// of its last ident): one record per Session object, held by the protocol instance.
import { randomU64, systemRandom } from '../../auth/environment.ts'
import type { RandomSource } from '../../auth/environment.ts'
import { tagName } from '../../wire-v2/constants.ts'
import { V2FrameEncoder } from '../../wire-v2/encoder.ts'
import { encodeControl } from '../../wire-v2/frames.ts'
import type { ControlFrame } from '../../wire-v2/frames.ts'
import type { V2Limits } from '../../wire-v2/limits.ts'
import { ErrorCode, ProtocolError } from '../../wire/errors.ts'
import type { EntityName } from '../../wire/entity-name.ts'
import type { Frame } from '../../wire/frame.ts'
import type { HandshakeStep } from '../handshake.ts'
import { V2FrameSource, V2_READ, unitOf } from './frame-source.ts'
import type { V2Unit } from './frame-source.ts'

/** Where cookies come from; a spec pins them to captured values. */
export interface V2Random {
  /** A non-zero random u64 (Ceph: generate_random_number<uint64_t>(1, -1)). */
  cookie: () => bigint
}

export function v2Random (source: RandomSource = systemRandom): V2Random {
  return {
    cookie: () => {
      for (let i = 0; i < 8; i++) {
        const v = randomU64(source)
        if (v !== 0n) return v
      }
      return 1n
    }
  }
}

export class V2Link {
  readonly source: V2FrameSource
  readonly enc = new V2FrameEncoder()
  /** Raw bytes sent since (and including) our banner, until our AUTH_SIGNATURE. */
  tx: Uint8Array[] = []
  /** Raw bytes received since (and including) the peer's banner, until its AUTH_SIGNATURE. */
  rx: Uint8Array[] = []
  signing = true
  /** The peer's entity type (its HELLO). */
  peerType = -1
  conMode = 1

  constructor (limits: Partial<V2Limits> = {}) {
    this.source = new V2FrameSource(limits)
  }

  /** A write step for these control frames (one gathered write), recorded for the signature. */
  write (...frames: ControlFrame[]): HandshakeStep {
    const bufs: Uint8Array[] = []
    for (const f of frames) {
      for (const b of this.enc.encode(f.tag, [encodeControl(f)])) bufs.push(b)
    }
    if (this.signing) for (const b of bufs) this.tx.push(b)
    return { kind: 'write', bufs }
  }

  /** A write step for our banner. */
  banner (): HandshakeStep {
    const b = this.enc.banner()
    if (this.signing) this.tx.push(b)
    return { kind: 'write', bufs: [b] }
  }

  /** Done with AUTH_SIGNATURE: the recorded bytes go. */
  stopSigning (): void {
    this.signing = false
    this.tx = []
    this.rx = []
  }
}

/** The next unit from the peer, recorded for the signature while signing. */
export function * readUnit (link: V2Link): Generator<HandshakeStep, V2Unit, Frame | undefined> {
  const u = unitOf(yield { kind: 'read', expect: V2_READ })
  if (link.signing) link.rx.push(u.raw)
  return u
}

/** The next control frame (the banner is read by the hello phase only). */
export function * readControl (link: V2Link): Generator<HandshakeStep, ControlFrame, Frame | undefined> {
  const u = yield * readUnit(link)
  if (u.what !== 'frame') throw new ProtocolError(ErrorCode.UNEXPECTED_DATA, 'a second banner', u.offset)
  return u.frame
}

export function unexpected (f: ControlFrame, expected: string): ProtocolError {
  return new ProtocolError(ErrorCode.UNEXPECTED_DATA, `expected ${expected}, got ${tagName(f.tag)}`, 0)
}

/** What a v2 session keeps across its connections. */
export interface V2SessionState {
  clientCookie: bigint
  serverCookie: bigint
  /** The peer's name from its last ident (the src of its messages after a reconnect). */
  peerName: EntityName | undefined
  /** Features negotiated by the last ident (a reconnect does not renegotiate them). */
  features: bigint | undefined
}

/** Per-session records, keyed by the Session object (gone with it). */
export class V2SessionStates {
  private readonly map = new WeakMap<object, V2SessionState>()

  get (session: object): V2SessionState {
    let s = this.map.get(session)
    if (s === undefined) {
      s = { clientCookie: 0n, serverCookie: 0n, peerName: undefined, features: undefined }
      this.map.set(session, s)
    }
    return s
  }

  peek (session: object | undefined): V2SessionState | undefined {
    return session === undefined ? undefined : this.map.get(session)
  }
}
