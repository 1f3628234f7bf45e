// Message type → typed decoder. A receiver calls decodeTypedMessage on each raw Message: known
// types come back as their class, unknown ones untouched (Ceph would drop the connection on an
// unknown type; whether to do so is the dispatcher's choice, not the codec's).
import { MsgType, msgTypeName } from '../wire/constants.ts'
import { ErrorCode, ProtocolError, isProtocolError } from '../wire/errors.ts'
import { MAuthReply } from './auth-reply.ts'
import { MAuth } from './auth.ts'
import type { Message } from './message.ts'
import { MMonGetMap } from './mon-get-map.ts'
import { MMonMap } from './mon-map.ts'
import { MPing } from './ping.ts'

/** Builds the typed message from a raw one; throws ProtocolError(BAD_PAYLOAD) on a bad front. */
export type MessageDecoder = (m: Message) => Message

const decoders = new Map<number, MessageDecoder>()

/** Register (or replace) the decoder for a message type. */
export function registerMessageType (type: number, decode: MessageDecoder): void {
  decoders.set(type, decode)
}

export function isRegisteredMessageType (type: number): boolean {
  return decoders.has(type)
}

/**
 * The typed form of `m` when its type is registered, else `m` itself. Never throws for an
 * unknown type; a registered type with a malformed front throws ProtocolError(BAD_PAYLOAD).
 */
export function decodeTypedMessage (m: Message): Message {
  const decode = decoders.get(m.type)
  if (decode === undefined) return m
  try {
    return decode(m)
  } catch (e) {
    if (isProtocolError(e)) {
      if (e.code === ErrorCode.BAD_PAYLOAD) throw e
      throw new ProtocolError(ErrorCode.BAD_PAYLOAD, `${msgTypeName(m.type)}: ${e.message}`, e.offset)
    }
    // A decoder bug or a plain Error from a registered decoder still means "cannot read this front".
    const why = e instanceof Error ? e.message : String(e)
    throw new ProtocolError(ErrorCode.BAD_PAYLOAD, `${msgTypeName(m.type)}: ${why}`, 0)
  }
}

registerMessageType(MsgType.PING, MPing.decode)
registerMessageType(MsgType.MON_MAP, MMonMap.decode)
registerMessageType(MsgType.MON_GET_MAP, MMonGetMap.decode)
registerMessageType(MsgType.AUTH, MAuth.decode)
registerMessageType(MsgType.AUTH_REPLY, MAuthReply.decode)
