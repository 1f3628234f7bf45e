// What the decoder yields and the encoder takes: one object per unit on the wire.
import type { ConnectMsg, ConnectReply } from './connect.ts'
import type { EntityAddr } from './entity-addr.ts'
import type { MsgFooter, MsgHeader } from './header.ts'
import type { PayloadLease } from './payload-pool.ts'

export interface Timespec {
  sec: number
  nsec: number
}

export type Frame =
  | { kind: 'banner' }
  /** `which`: 'self' = the sender's own address; 'peer' = the receiver's address as the sender sees it. */
  | { kind: 'addr', which: 'self' | 'peer', addr: EntityAddr }
  | { kind: 'connect', connect: ConnectMsg }
  | { kind: 'connect_reply', reply: ConnectReply }
  /** The u64 in_seq of the TAG_SEQ exchange. */
  | { kind: 'seq', seq: number }
  | MsgFrame
  | { kind: 'ack', seq: number }
  | { kind: 'keepalive' }
  | { kind: 'keepalive2', stamp: Timespec }
  | { kind: 'keepalive2_ack', stamp: Timespec }
  | { kind: 'close' }

export interface MsgFrame {
  kind: 'msg'
  header: MsgHeader
  front: Uint8Array
  middle: Uint8Array
  data: Uint8Array
  footer: MsgFooter
  /** False when the data crc was not checked (sender set NOCRC or our crcData is off). */
  dataCrcChecked: boolean
  /** The pooled buffer the sections were gathered in, if any: release it when they are dead. */
  lease?: PayloadLease | undefined
}

export type FrameKind = Frame['kind']
