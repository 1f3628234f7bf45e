// MPing (CEPH_MSG_PING = 2). A ping has an empty front. A mon answers `ceph ping` with an MPing
// whose whole front is one std::string (u32 length + bytes) of JSON; the pinging client decodes
// that string only when the front is non-empty.
import { MsgType } from '../wire/constants.ts'
import { Decoder, Encoder } from './denc.ts'
import { EMPTY, Message } from './message.ts'
import type { MessageHeaderInit } from './message.ts'

export interface MPingInit extends MessageHeaderInit {
  /** The pong's text (JSON from a real mon); absent for a plain ping. */
  payloadText?: string
}

export class MPing extends Message {
  payloadText?: string

  constructor (init: MPingInit = {}) {
    super({ ...init, type: MsgType.PING })
    this.payloadText = init.payloadText
  }

  override encodePayload (_features: bigint): void {
    if (this.payloadText === undefined) {
      this.front = EMPTY
      return
    }
    const enc = new Encoder(this.payloadText.length + 8)
    enc.string(this.payloadText)
    this.front = enc.finish()
  }

  static decode (m: Message): MPing {
    let payloadText: string | undefined
    if (m.front.length > 0) payloadText = new Decoder(m.front).string()
    const out = new MPing({ payloadText })
    out.copyFrom(m)
    return out
  }
}
