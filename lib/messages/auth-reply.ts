// MAuthReply (CEPH_MSG_AUTH_REPLY = 18), mon → client: u32 protocol, s32 result, u64 global_id,
// bufferlist result_bl, string result_msg (ceph src/messages/MAuthReply.h, confirmed by a real
// reply: protocol 1, result 0, global_id 4112, empty bl and message).
import { MsgType } from '../wire/constants.ts'
import { Decoder, Encoder } from './denc.ts'
import { EMPTY, Message } from './message.ts'
import type { MessageHeaderInit } from './message.ts'

export interface MAuthReplyFields {
  /** CEPH_AUTH_* the mon chose. */
  protocol: number
  /** 0 or a negative errno. */
  result: number
  /** The client's global id (0 = none assigned). */
  globalId: bigint
  resultBl: Uint8Array
  resultMsg: string
}

export interface MAuthReplyInit extends MessageHeaderInit, Partial<MAuthReplyFields> {}

export class MAuthReply extends Message implements MAuthReplyFields {
  protocol: number
  result: number
  globalId: bigint
  resultBl: Uint8Array
  resultMsg: string

  constructor (init: MAuthReplyInit = {}) {
    super({ ...init, type: MsgType.AUTH_REPLY })
    this.protocol = init.protocol ?? 0
    this.result = init.result ?? 0
    this.globalId = init.globalId ?? 0n
    this.resultBl = init.resultBl ?? EMPTY
    this.resultMsg = init.resultMsg ?? ''
  }

  override encodePayload (_features: bigint): void {
    const enc = new Encoder(24 + this.resultBl.length + this.resultMsg.length * 3)
    enc.u32(this.protocol).s32(this.result).u64(this.globalId)
    enc.bufferlist(this.resultBl).string(this.resultMsg)
    this.front = enc.finish()
  }

  static decode (m: Message): MAuthReply {
    const dec = new Decoder(m.front)
    const protocol = dec.u32()
    const result = dec.s32()
    const globalId = dec.u64()
    const resultBl = dec.bufferlist()
    const resultMsg = dec.string()
    const out = new MAuthReply({ protocol, result, globalId, resultBl, resultMsg })
    out.copyFrom(m)
    return out
  }
}
