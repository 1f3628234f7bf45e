// MMonGetMap (CEPH_MSG_MON_GET_MAP = 5): "send me your monmap". No payload.
import { MsgType } from '../wire/constants.ts'
import { EMPTY, Message } from './message.ts'
import type { MessageHeaderInit } from './message.ts'

export class MMonGetMap extends Message {
  constructor (init: MessageHeaderInit = {}) {
    super({ ...init, type: MsgType.MON_GET_MAP })
  }

  override encodePayload (_features: bigint): void {
    this.front = EMPTY
  }

  /** Ceph reads nothing from the front, so any front is accepted (and kept as received). */
  static decode (m: Message): MMonGetMap {
    const out = new MMonGetMap()
    out.copyFrom(m)
    return out
  }
}
