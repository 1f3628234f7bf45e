// v1's SessionWriter: the open session's frames into a WriteBatch (messages with their header,
// footer and crcs; ACK; KEEPALIVE2 and its ACK, or the old KEEPALIVE for peers without it).
import { encodeKeepalive, WriteBatch } from '../../wire/encoder.ts'
import type { CrcOptions, OutgoingMessage } from '../../wire/encoder.ts'
import { Feature } from '../../wire/features.ts'
import type { Timespec } from '../../wire/frame.ts'
import type { SessionWriter } from '../wire-protocol.ts'

export class SessionWriterV1 implements SessionWriter {
  private readonly batch = new WriteBatch(64 * 1024, 4096)
  private readonly msgAuth: boolean
  private readonly keepalive2: boolean
  private readonly crc: CrcOptions

  constructor (features: bigint, crc: CrcOptions) {
    this.msgAuth = (features & Feature.MSG_AUTH) === Feature.MSG_AUTH
    this.keepalive2 = (features & Feature.MSGR_KEEPALIVE2) === Feature.MSGR_KEEPALIVE2
    this.crc = crc
  }

  get bytes (): number { return this.batch.bytes }
  get empty (): boolean { return this.batch.empty }
  raw (b: Uint8Array): void { this.batch.append(b) }
  message (m: OutgoingMessage): void { this.batch.appendMessage(m, this.msgAuth, this.crc) }
  ack (seq: number): void { this.batch.appendAck(seq) }

  keepalive (stamp: Timespec): void {
    if (this.keepalive2) this.batch.appendKeepalive2(stamp)
    else this.batch.append(encodeKeepalive())
  }

  keepaliveAck (stamp: Timespec): void { this.batch.appendKeepalive2(stamp, true) }
  flush (): Uint8Array[] { return this.batch.flush() }
  release (): void { this.batch.release() }
}
