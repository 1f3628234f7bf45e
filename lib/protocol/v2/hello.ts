// Phase 1: banners, then HELLO both ways. Each side sends its banner at once, and its HELLO as
// soon as the peer's banner has been read (msgr2.1 is settled there). HELLO says who we are
// (entity type) and how we see the peer's address; the client learns its own IP from it.
import { negotiateBanner } from '../../wire-v2/banner.ts'
import { Tag } from '../../wire-v2/constants.ts'
import { AddrType } from '../../wire/entity-addr.ts'
import type { EntityAddr } from '../../wire/entity-addr.ts'
import type { Frame } from '../../wire/frame.ts'
import { ErrorCode, ProtocolError } from '../../wire/errors.ts'
import { entityTypeName } from '../../wire/constants.ts'
import type { HandshakeStep } from '../handshake.ts'
import { MessengerError, MessengerErrorCode } from '../errors.ts'
import { readControl, readUnit, unexpected } from './link.ts'
import type { V2Link } from './link.ts'

export interface HelloResult {
  peerType: number
  /** Our address as the peer sees it. */
  seenByPeer: EntityAddr
}

/** An address as msgr2 names it: a listening one is a v2 address. */
export function asMsgr2 (a: EntityAddr): EntityAddr {
  return a.type === AddrType.MSGR2 ? a : { ...a, type: AddrType.MSGR2 }
}

function * banners (link: V2Link): Generator<HandshakeStep, void, Frame | undefined> {
  yield link.banner()
  const u = yield * readUnit(link)
  if (u.what !== 'banner') throw new ProtocolError(ErrorCode.BAD_BANNER, 'expected the msgr2 banner', u.offset)
  // Throws FEATURES_MISMATCH when either side requires what the other lacks.
  const n = negotiateBanner(u.banner)
  if (!n.rev1) throw new MessengerError(MessengerErrorCode.REFUSED, 'peer does not speak msgr2.1 (no REVISION_1)')
}

/**
 * One side's HELLO exchange. `myType`: our entity type; `peerAddr`: the peer's address as we see
 * it; `expectType`: the peer type we dialled for (client), if known.
 */
export function * hello (link: V2Link, myType: number, peerAddr: EntityAddr, expectType?: number): Generator<HandshakeStep, HelloResult, Frame | undefined> {
  yield * banners(link)
  yield link.write({ tag: Tag.HELLO, entityType: myType, peerAddr: asMsgr2(peerAddr) })
  const f = yield * readControl(link)
  if (f.tag !== Tag.HELLO) throw unexpected(f, 'HELLO')
  if (expectType !== undefined && expectType >= 0 && f.entityType !== expectType) {
    throw new MessengerError(MessengerErrorCode.PEER_ADDR_MISMATCH, `dialled a ${entityTypeName(expectType)}, peer is a ${entityTypeName(f.entityType)}`)
  }
  link.peerType = f.entityType
  return { peerType: f.entityType, seenByPeer: f.peerAddr }
}
