// msgr v1 as a WireProtocol: its handshakes, decoder and session writer.
import { FrameDecoder } from '../../wire/decoder.ts'
import type { DecoderRole } from '../../wire/decoder.ts'
import type { DecoderConfig, WireProtocol } from '../wire-protocol.ts'
import { clientHandshakeV1 } from './client-handshake.ts'
import { acceptV1, serverOpenV1 } from './server-handshake.ts'
import type { PendingOpenV1 } from './server-handshake.ts'
import { SessionWriterV1 } from './session-writer.ts'

function decoder (role: DecoderRole, c: DecoderConfig): FrameDecoder {
  // reuseFrames: the read loop is done with each frame before it asks for the next.
  return new FrameDecoder({
    role,
    ...(c.features !== undefined ? { features: c.features } : {}),
    limits: c.limits,
    crcHeader: c.crcHeader,
    crcData: c.crcData,
    copyBelow: c.copyBelow,
    reuseFrames: true,
    ...(c.pool !== undefined ? { pool: c.pool } : {})
  })
}

export const protocolV1: WireProtocol = {
  name: 'v1',
  client (ctx, c) {
    const dec = decoder('client', c)
    return { source: dec, handshake: clientHandshakeV1(ctx, dec) }
  },
  accept (ctx, c) {
    const dec = decoder('server', c)
    return { source: dec, handshake: acceptV1(ctx, dec) }
  },
  writer: (features, crc) => new SessionWriterV1(features, crc)
}

export { clientHandshakeV1, acceptV1, serverOpenV1 }
export type { PendingOpenV1 }
export { decideAccept } from './accept-decision.ts'
export type { AcceptDecision, AcceptInput, ExistingSession } from './accept-decision.ts'
