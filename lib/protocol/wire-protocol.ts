// The seam between a connection's I/O edge and a wire protocol (Ceph's AsyncConnection vs
// ProtocolV1 / ProtocolV2). The edge owns sockets, timers and the read/write loops; a protocol
// supplies its handshakes (sans-IO generators), the decoder of a socket's bytes (created and
// steered by the protocol, seen by the edge only as a FrameSource) and a writer that encodes an
// open session's frames. A second protocol plugs in here, beside v1, without touching the edge.
import type { Policy } from '../session/policy.ts'
import type { Session, Sequenced } from '../session/session.ts'
import type { DecoderLimits } from '../wire/limits.ts'
import type { OutgoingMessage } from '../wire/encoder.ts'
import type { EntityAddr } from '../wire/entity-addr.ts'
import type { EntityName } from '../wire/entity-name.ts'
import type { Frame, Timespec } from '../wire/frame.ts'
import type { PayloadPool } from '../wire/payload-pool.ts'
import type { Handshake } from './handshake.ts'
import type { ExistingSession } from './v1/accept-decision.ts'

/**
 * Frames in, as the socket's chunks arrive. Frames are the tag router's currency: handshake
 * frames for the handshakes, then messages, ACKs, keepalives and CLOSE for the open session.
 */
export interface FrameSource {
  push: (chunk: Uint8Array) => void
  /** The next whole frame, or undefined until more bytes arrive. */
  next: () => Frame | undefined
  /** End of stream: a partial frame left over is an error. */
  end: () => void
  /** Bytes consumed so far (for error offsets). */
  readonly offset: number
}

/** The open session's frames out, gathered into as few writes as possible. */
export interface SessionWriter {
  readonly bytes: number
  readonly empty: boolean
  /** Handshake bytes left for the first write (v1: our in_seq after SEQ). */
  raw: (b: Uint8Array) => void
  message: (m: OutgoingMessage) => void
  ack: (seq: number) => void
  keepalive: (stamp: Timespec) => void
  keepaliveAck: (stamp: Timespec) => void
  flush: () => Uint8Array[]
  /** Let go of buffers while idle. */
  release: () => void
}

/** How the messenger wants its decoders: limits, crc checks, the payload pool. */
export interface DecoderConfig {
  /** Our supported features (the default set when undefined, as for a socket not yet matched to a policy). */
  features?: bigint | undefined
  limits: DecoderLimits
  crcHeader: boolean
  crcData: boolean
  /** Payloads shorter than this are copied out of the socket's chunk. */
  copyBelow: number
  pool?: PayloadPool | undefined
}

/** What a client handshake needs from the connection and its messenger. */
export interface ClientContext {
  session: Session<Sequenced>
  policy: Policy
  peerAddr: EntityAddr
  myType: number
  myAddr: () => EntityAddr
  nextGlobalSeq: (atLeast?: number) => number
  protocolVersion: number
  authorizer?: { protocol: number, bytes: Uint8Array } | undefined
  internalDelayMs: number
  /**
   * The entity type we expect at peerAddr, when known (v2 checks it against the peer's HELLO,
   * as Ceph does; v1 ignores it).
   */
  peerType?: number | undefined
}

export type ClientResult =
  /**
   * The session is open. `policy` carries the lossiness the server chose; `tail` is handshake
   * bytes for the writer to send ahead of its first batch (v1: our in_seq after a SEQ reply).
   */
  | { kind: 'ready', policy: Policy, features: bigint, tail: Uint8Array | undefined, peerName?: EntityName | undefined }
  /** The server is connecting to us and its connection wins the race. */
  | { kind: 'wait' }

/** What an accept handshake needs; H is the messenger's handle on a session it holds. */
export interface AcceptContext<H> {
  myAddr: EntityAddr
  seenAddr: EntityAddr
  policyFor: (peerType: number) => Policy
  protocolVersion: (peerType: number) => number
  /**
   * The session we hold with that peer, if any. `session` (optional) is that session's object:
   * a protocol keeping per-session state across connections (v2: its cookies) finds it there.
   */
  lookup: (peerAddr: EntityAddr) => { handle: H, state: ExistingSession, session?: Session<Sequenced> | undefined } | undefined
}

/**
 * An accepted socket's handshake so far, for the session that takes it over: `open` runs the
 * server's last steps on that session and returns the features both sides support.
 */
export interface PendingOpen {
  readonly peerType: number
  readonly connectSeq: number
  readonly globalSeq: number
  open: (ctx: OpenContext, reset: boolean) => Handshake<Frame, { features: bigint }>
  /**
   * This socket's own writer factory (v2: its encoder, which may be in secure mode). When present
   * the edge must use it instead of WireProtocol.writer for the session opened on this socket.
   */
  writer?: WriterFactory | undefined
}

export type AcceptResult<H> =
  /** Open a new session for this peer. */
  | { kind: 'open', peerAddr: EntityAddr, policy: Policy, pending: PendingOpen }
  /** Hand the socket to a session we hold; `reset` = the peer lost its side of it. */
  | { kind: 'replace', handle: H, peerAddr: EntityAddr, pending: PendingOpen, reset: boolean }
  /** Refused: the refusal is written; close once the peer had time to read it. */
  | { kind: 'refused', peerAddr: EntityAddr, reason: string, tag: string }

export interface OpenContext {
  session: Session<Sequenced>
  policy: Policy
  nextGlobalSeq: () => number
  protocolVersion: number
}

/** A writer for one socket's open session. */
export type WriterFactory = (features: bigint, crc: { crcHeader: boolean, crcData: boolean }) => SessionWriter

export interface WireProtocol {
  readonly name: string
  /**
   * `writer`, when present, is this socket's own writer factory: the edge must prefer it over
   * WireProtocol.writer once the handshake returned 'ready' (v2 keeps per-connection framing
   * state, the secure-mode cipher included, that a protocol-wide writer cannot know).
   */
  client: (ctx: ClientContext, dec: DecoderConfig) => { source: FrameSource, handshake: Handshake<Frame, ClientResult>, writer?: WriterFactory | undefined }
  accept: <H>(ctx: AcceptContext<H>, dec: DecoderConfig) => { source: FrameSource, handshake: Handshake<Frame, AcceptResult<H>> }
  writer: (features: bigint, crc: { crcHeader: boolean, crcData: boolean }) => SessionWriter
}
