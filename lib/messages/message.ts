// A Ceph message: the header fields a sender chooses, and the three payload sections.
// Typed messages (MPing, MAuth, ...) extend it; unknown types travel as plain Message.
import type { EntityAddr } from '../wire/entity-addr.ts'
import { Priority, msgTypeName } from '../wire/constants.ts'
import type { EntityName } from '../wire/entity-name.ts'
import type { PayloadLease } from '../wire/payload-pool.ts'

export const EMPTY = new Uint8Array(0)

/** The src of a message built locally: the messenger writes its own name on the wire instead. */
const NO_SRC: EntityName = Object.freeze({ type: 0, num: 0 })

export interface MessageInit {
  type: number
  priority?: number
  version?: number
  compatVersion?: number
  tid?: number
  dataOff?: number
  src?: EntityName
  front?: Uint8Array
  middle?: Uint8Array
  data?: Uint8Array
}

/**
 * What a received message knows of the connection it came from: enough to answer on it, tell
 * peers apart and give back its throttles. The messenger's Connection implements it.
 */
export interface MessageConnection {
  readonly id: number
  readonly peerType: number
  readonly peerAddr: EntityAddr
  /** Features both sides support. */
  readonly features: bigint
  readonly isClosed: boolean
  send: (m: Message) => boolean
  markDown: () => void
  /** Give back what the message holds of the connection's policy throttles. */
  releasePolicy: (m: Message) => void
}

export class Message {
  type: number
  priority: number
  /** Encoding version of the payload. */
  version: number
  /** Oldest decoder version able to read it (0 on the wire means "same as version"). */
  compatVersion: number
  tid: number
  /** Assigned by the connection when written; set on receipt. */
  seq = 0
  dataOff: number
  /** Set on receipt from the header; the sender's messenger fills it on send. */
  src: EntityName
  front: Uint8Array
  middle: Uint8Array
  data: Uint8Array
  /** Receive side: the connection it came from (set by the messenger). */
  connection: MessageConnection | undefined = undefined
  /** Receive side: performance.now() of the socket read that completed it. */
  recvStamp = 0
  /**
   * Receive side: payload bytes this message holds of its connection's throttles (-1 = none).
   * Kept on the message rather than in a side table: it is touched twice per message.
   */
  throttleHeld = -1
  /** Send side: encodePayload() has run (or the payload was supplied ready-made). */
  payloadEncoded = false
  /** Receive side: the pooled buffer holding the sections, given back by put(). */
  lease: PayloadLease | undefined = undefined

  constructor (init: MessageInit) {
    this.type = init.type
    this.priority = init.priority ?? Priority.DEFAULT
    this.version = init.version ?? 1
    this.compatVersion = init.compatVersion ?? 0
    this.tid = init.tid ?? 0
    this.dataOff = init.dataOff ?? 0
    this.src = init.src ?? NO_SRC
    this.front = init.front ?? EMPTY
    this.middle = init.middle ?? EMPTY
    this.data = init.data ?? EMPTY
  }

  get typeName (): string {
    return msgTypeName(this.type)
  }

  /** Payload bytes: what throttles and the dispatch queue charge for this message. */
  get payloadLength (): number {
    return this.front.length + this.middle.length + this.data.length
  }

  /**
   * Ceph's Message::put(): the receiver is done with this message. A large payload's buffer goes
   * back to its messenger's pool for the next message to reuse, and the sections become empty.
   * Call it only once nothing (no field, no view, no typed field decoded from the payload) will
   * read the old sections again; a message that is never put is simply garbage collected.
   */
  put (): void {
    const lease = this.lease
    if (lease === undefined) return
    this.lease = undefined
    this.front = EMPTY
    this.middle = EMPTY
    this.data = EMPTY
    lease.release()
  }

  /**
   * Typed messages override this to (re)build `front` (and middle/data) from their fields.
   * Called once before the message is first encoded; `features` are the connection's negotiated ones.
   */
  encodePayload (_features: bigint): void {}

  /** Copy header and payload fields from another message (used when a raw message is typed). */
  protected copyFrom (m: Message): void {
    this.type = m.type
    this.priority = m.priority
    this.version = m.version
    this.compatVersion = m.compatVersion
    this.tid = m.tid
    this.seq = m.seq
    this.dataOff = m.dataOff
    this.src = m.src
    this.front = m.front
    this.middle = m.middle
    this.data = m.data
    this.connection = m.connection
    this.recvStamp = m.recvStamp
  }

  toString (): string {
    return `${this.typeName}(seq ${this.seq}, ${this.front.length}+${this.middle.length}+${this.data.length} bytes)`
  }
}

/** Header fields a typed message's constructor accepts; its payload comes from its own fields. */
export type MessageHeaderInit = Omit<MessageInit, 'type' | 'front' | 'middle' | 'data'>
