import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { MAuthReply } from '../../lib/messages/auth-reply.ts'
import { MAuth, decodeAuthNegotiation, encodeAuthNegotiation, negotiationMAuth } from '../../lib/messages/auth.ts'
import { Encoder } from '../../lib/messages/denc.ts'
import { Message } from '../../lib/messages/message.ts'
import { MMonGetMap } from '../../lib/messages/mon-get-map.ts'
import { MMonMap, createMonMap } from '../../lib/messages/mon-map.ts'
import type { MonMap } from '../../lib/messages/mon-map.ts'
import { MPing } from '../../lib/messages/ping.ts'
import { decodeTypedMessage, isRegisteredMessageType, registerMessageType } from '../../lib/messages/registry.ts'
import { AuthProtocol, EntityType, MsgType, Priority } from '../../lib/wire/constants.ts'
import { AF_INET, AddrType } from '../../lib/wire/entity-addr.ts'
import { ErrorCode, ProtocolError } from '../../lib/wire/errors.ts'
import { PACIFIC_SUPPORTED } from '../../lib/wire/features.ts'
import { expectBadPayload, hex, monMapArb, succeedsOrBadPayload, text, u32, u64 } from './arbitraries.ts'
import { clientMessages, readFixture, serverMessages } from './capture.ts'

const FEATURES = PACIFIC_SUPPORTED

const client = clientMessages()
const server = serverMessages()

function only (msgs: Message[], type: number): Message {
  const found = msgs.filter((m) => m.type === type)
  assert.equal(found.length, 1, `one message of type ${type}`)
  return found[0]
}

/** Encode a typed message and carry its bytes over as a raw Message, as a receiver would see it. */
function overTheWire (m: Message): Message {
  m.encodePayload(FEATURES)
  return new Message({ type: m.type, version: m.version, front: m.front.slice(), middle: m.middle, data: m.data })
}

function reencoded (m: Message): Uint8Array {
  m.encodePayload(FEATURES)
  return m.front
}

describe('captured `ceph ping` messages (golden)', () => {
  it('finds the expected message sequence in both directions', () => {
    assert.deepEqual(client.map((m) => m.type), [MsgType.AUTH, MsgType.PING])
    assert.deepEqual(server.map((m) => m.type), [MsgType.AUTH_REPLY, MsgType.MON_MAP, MsgType.PING])
  })

  it('MAuth: the auth-none negotiation a real client sends', () => {
    const raw = only(client, MsgType.AUTH)
    assert.equal(raw.front.length, 55)
    const m = decodeTypedMessage(raw)
    assert.ok(m instanceof MAuth)
    assert.equal(m.paxosVersion, 0n)
    assert.equal(m.deprecatedSessionMon, -1)
    assert.equal(m.deprecatedSessionMonTid, 0n)
    assert.equal(m.protocol, AuthProtocol.UNKNOWN)
    assert.equal(m.authPayload.length, 25)
    assert.equal(m.monmapEpoch, 0)
    assert.deepEqual(m.negotiation, { structV: 1, methods: [AuthProtocol.NONE], entityName: { type: 0, id: '' }, globalId: 0n })
    // header fields survive typing
    assert.deepEqual(m.src, { type: EntityType.CLIENT, num: -1 })
    assert.equal(m.priority, Priority.DEFAULT)
    assert.equal(m.version, 1)
    assert.equal(m.compatVersion, 1)
    assert.equal(m.seq, raw.seq)
    assert.equal(hex(reencoded(m)), hex(raw.front))
  })

  it('MAuth: negotiationMAuth() rebuilds the captured front exactly', () => {
    const raw = only(client, MsgType.AUTH)
    const m = negotiationMAuth()
    m.encodePayload(FEATURES)
    assert.equal(hex(m.front), hex(raw.front))
  })

  it('MPing from the client: empty front', () => {
    const raw = only(client, MsgType.PING)
    const m = decodeTypedMessage(raw)
    assert.ok(m instanceof MPing)
    assert.equal(m.payloadText, undefined)
    assert.equal(m.front.length, 0)
    assert.equal(reencoded(m).length, 0)
    assert.equal(new MPing().front.length, 0)
  })

  it('MAuthReply: protocol none, result 0, global_id 4112', () => {
    const raw = only(server, MsgType.AUTH_REPLY)
    assert.equal(raw.front.length, 24)
    const m = decodeTypedMessage(raw)
    assert.ok(m instanceof MAuthReply)
    assert.equal(m.protocol, AuthProtocol.NONE)
    assert.equal(m.result, 0)
    assert.equal(m.globalId, 4112n)
    assert.equal(m.resultBl.length, 0)
    assert.equal(m.resultMsg, '')
    assert.deepEqual(m.src, { type: EntityType.MON, num: 0 })
    assert.equal(m.priority, Priority.HIGH)
    assert.equal(hex(reencoded(m)), hex(raw.front))
  })

  it('MMonMap: mon.a at v2 127.0.0.1:3300 and v1 127.0.0.1:6789', () => {
    const raw = only(server, MsgType.MON_MAP)
    const m = decodeTypedMessage(raw)
    assert.ok(m instanceof MMonMap)
    const map = m.monmap
    assert.equal(map.fsid, '630ba7ee-1a25-4a3e-bdad-adcf5cab63bf')
    assert.equal(map.epoch, 1)
    assert.deepEqual(map.mons.map((x) => x.name), ['a'])
    assert.deepEqual(map.ranks, ['a'])
    assert.deepEqual(map.mons[0].addrs, [
      { type: AddrType.MSGR2, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 3300 },
      { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 6789 }
    ])
    assert.equal(map.mons[0].priority, 0)
    assert.equal(map.mons[0].weight, 0)
    assert.deepEqual(map.mons[0].crushLocation, {})
    assert.equal(map.persistentFeatures, 0xffn)
    assert.equal(map.optionalFeatures, 0n)
    assert.equal(map.minMonRelease, 16)
    assert.deepEqual(map.removedRanks, [])
    assert.equal(map.electionStrategy, 1)
    assert.deepEqual(map.disallowedLeaders, [])
    assert.equal(map.stretchModeEnabled, false)
    assert.equal(map.tiebreakerMon, '')
    assert.deepEqual(map.stretchMarkedDownMons, [])
    assert.equal(hex(reencoded(m)), hex(raw.front))
  })

  it('MMonMap agrees with the monmap the mon printed in its pong', () => {
    const map = (decodeTypedMessage(only(server, MsgType.MON_MAP)) as MMonMap).monmap
    const pong = JSON.parse(new TextDecoder().decode(readFixture('ceph-ping-v1.stdout.json')))
    const printed = pong.mon_status.monmap
    assert.equal(map.fsid, printed.fsid)
    assert.equal(map.epoch, printed.epoch)
    assert.equal(map.minMonRelease, printed.min_mon_release)
    assert.equal(map.electionStrategy, printed.election_strategy)
    assert.equal(map.stretchModeEnabled, printed.stretch_mode)
    assert.equal(map.tiebreakerMon, printed.tiebreaker_mon)
    // utime to the microsecond, as Ceph prints it
    const iso = (t: { sec: number, nsec: number }): string =>
      new Date(t.sec * 1000).toISOString().replace(/\.000Z$/, `.${String(Math.floor(t.nsec / 1000)).padStart(6, '0')}Z`)
    assert.equal(iso(map.lastChanged), printed.modified)
    assert.equal(iso(map.created), printed.created)
    assert.equal(printed.mons.length, 1)
    assert.equal(map.mons[0].name, printed.mons[0].name)
    const printedAddrs = printed.mons[0].public_addrs.addrvec
      .map((a: { type: string, addr: string, nonce: number }) => `${a.type}:${a.addr}/${a.nonce}`)
    const ours = map.mons[0].addrs.map((a) => `${a.type === AddrType.MSGR2 ? 'v2' : 'v1'}:${a.ip}:${a.port}/${a.nonce}`)
    assert.deepEqual(ours, printedAddrs)
  })

  it('MMonMap: the whole bufferlist is consumed by the MonMap', () => {
    const raw = only(server, MsgType.MON_MAP)
    const view = new DataView(raw.front.buffer, raw.front.byteOffset)
    assert.equal(view.getUint32(0, true), raw.front.length - 4) // the bufferlist spans the front
    assert.equal(raw.front[4], 9) // struct_v
    assert.equal(raw.front[5], 6) // struct_compat
    assert.equal(view.getUint32(6, true), raw.front.length - 10) // the struct spans the bufferlist
  })

  it('MMonMap built from scratch by our mon reproduces the real bytes', () => {
    const raw = only(server, MsgType.MON_MAP)
    const real = (decodeTypedMessage(raw) as MMonMap).monmap
    const ours = createMonMap({
      fsid: '630ba7ee-1a25-4a3e-bdad-adcf5cab63bf',
      lastChanged: real.lastChanged,
      created: real.created,
      mons: [{
        name: 'a',
        priority: 0,
        addrs: [
          { type: AddrType.MSGR2, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 3300 },
          { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 6789 }
        ]
      }]
    })
    const m = new MMonMap({ monmap: ours, priority: Priority.HIGH })
    m.encodePayload(FEATURES)
    assert.equal(hex(m.front), hex(raw.front))
  })

  it('pong MPing: a JSON string identical to what `ceph ping` printed', () => {
    const raw = only(server, MsgType.PING)
    assert.equal(raw.front.length, 3284)
    assert.equal(raw.compatVersion, 0) // the mon pre-sets the payload, so compat stays 0
    const m = decodeTypedMessage(raw)
    assert.ok(m instanceof MPing)
    assert.ok(m.payloadText !== undefined)
    assert.equal(m.payloadText.length, 3280)
    assert.ok(m.payloadText.startsWith('{\n    "health": {'))
    const printed = JSON.parse(new TextDecoder().decode(readFixture('ceph-ping-v1.stdout.json')))
    assert.deepEqual(JSON.parse(m.payloadText), printed)
    assert.equal(m.compatVersion, 0)
    assert.deepEqual(m.src, { type: EntityType.MON, num: 0 })
    assert.equal(hex(reencoded(m)), hex(raw.front))
  })
})

describe('message round trips (property)', () => {
  const header = fc.record({
    priority: fc.constantFrom<number>(Priority.LOW, Priority.DEFAULT, Priority.HIGH),
    tid: fc.nat()
  }).map((h) => ({ ...h }))

  it('MPing', () => {
    fc.assert(fc.property(fc.option(text(200), { nil: undefined }), header, (payloadText, h) => {
      const back = decodeTypedMessage(overTheWire(new MPing({ ...h, payloadText })))
      assert.ok(back instanceof MPing)
      assert.equal(back.payloadText, payloadText)
    }), { numRuns: 300 })
  })

  it('MAuth', () => {
    const fields = fc.record({
      paxosVersion: u64,
      deprecatedSessionMon: fc.integer({ min: -0x8000, max: 0x7fff }),
      deprecatedSessionMonTid: u64,
      protocol: u32,
      authPayload: fc.uint8Array({ maxLength: 64 }),
      monmapEpoch: u32
    }).map((f) => ({ ...f }))
    fc.assert(fc.property(fields, header, (f, h) => {
      const back = decodeTypedMessage(overTheWire(new MAuth({ ...h, ...f })))
      assert.ok(back instanceof MAuth)
      assert.deepEqual({
        paxosVersion: back.paxosVersion,
        deprecatedSessionMon: back.deprecatedSessionMon,
        deprecatedSessionMonTid: back.deprecatedSessionMonTid,
        protocol: back.protocol,
        authPayload: new Uint8Array(back.authPayload),
        monmapEpoch: back.monmapEpoch
      }, f)
    }), { numRuns: 300 })
  })

  it('auth negotiation payload', () => {
    const neg = fc.record({
      structV: fc.integer({ min: 0, max: 255 }),
      methods: fc.array(u32, { maxLength: 5 }),
      entityName: fc.record({ type: u32, id: text() }).map((n) => ({ ...n })),
      globalId: u64
    }).map((n) => ({ ...n }))
    fc.assert(fc.property(neg, (n) => {
      assert.deepEqual(decodeAuthNegotiation(encodeAuthNegotiation(n)), n)
      const m = decodeTypedMessage(overTheWire(negotiationMAuth({ ...n, monmapEpoch: 3 })))
      assert.ok(m instanceof MAuth)
      assert.deepEqual(m.negotiation, n)
      assert.equal(m.monmapEpoch, 3)
    }), { numRuns: 200 })
  })

  it('MAuthReply', () => {
    const fields = fc.record({
      protocol: u32,
      result: fc.integer({ min: -0x80000000, max: 0x7fffffff }),
      globalId: u64,
      resultBl: fc.uint8Array({ maxLength: 64 }),
      resultMsg: text(60)
    }).map((f) => ({ ...f }))
    fc.assert(fc.property(fields, header, (f, h) => {
      const back = decodeTypedMessage(overTheWire(new MAuthReply({ ...h, ...f })))
      assert.ok(back instanceof MAuthReply)
      assert.deepEqual({
        protocol: back.protocol,
        result: back.result,
        globalId: back.globalId,
        resultBl: new Uint8Array(back.resultBl),
        resultMsg: back.resultMsg
      }, f)
    }), { numRuns: 300 })
  })

  it('MMonMap', () => {
    fc.assert(fc.property(monMapArb, (map: MonMap) => {
      const back = decodeTypedMessage(overTheWire(new MMonMap({ monmap: map })))
      assert.ok(back instanceof MMonMap)
      assert.deepEqual(back.monmap, map)
    }), { numRuns: 200 })
  })

  it('MMonGetMap', () => {
    const back = decodeTypedMessage(overTheWire(new MMonGetMap()))
    assert.ok(back instanceof MMonGetMap)
    assert.equal(back.front.length, 0)
    assert.equal(back.type, MsgType.MON_GET_MAP)
  })

  it('constructors set fields only; encodePayload builds the front', () => {
    const m = new MAuthReply({ protocol: 1, globalId: 4112n, priority: Priority.HIGH })
    assert.equal(m.front.length, 0)
    assert.equal(m.priority, Priority.HIGH)
    m.encodePayload(FEATURES)
    assert.equal(hex(m.front), hex(only(server, MsgType.AUTH_REPLY).front))
    assert.equal(m.payloadLength, 24)
  })
})

describe('registry', () => {
  it('knows the pre-registered types', () => {
    for (const t of [MsgType.PING, MsgType.MON_MAP, MsgType.MON_GET_MAP, MsgType.AUTH, MsgType.AUTH_REPLY]) {
      assert.ok(isRegisteredMessageType(t), String(t))
    }
  })

  it('passes unknown types through untouched, whatever their front', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffff }), fc.uint8Array({ maxLength: 64 }), (type, front) => {
      fc.pre(!isRegisteredMessageType(type))
      const m = new Message({ type, front })
      assert.equal(decodeTypedMessage(m), m)
    }), { numRuns: 300 })
  })

  it('uses a registered decoder and wraps its plain errors as BAD_PAYLOAD', () => {
    class MTest extends Message {
      static decode (m: Message): MTest {
        if (m.front.length === 0) throw new Error('empty')
        const out = new MTest({ type: 0x7777 })
        out.copyFrom(m)
        return out
      }
    }
    registerMessageType(0x7777, MTest.decode)
    assert.ok(decodeTypedMessage(new Message({ type: 0x7777, front: Uint8Array.of(1) })) instanceof MTest)
    expectBadPayload(() => decodeTypedMessage(new Message({ type: 0x7777 })))
  })

  it('re-labels other ProtocolError codes from a decoder as BAD_PAYLOAD', () => {
    registerMessageType(0x7778, () => { throw new ProtocolError(ErrorCode.BAD_ADDR, 'x', 3) })
    expectBadPayload(() => decodeTypedMessage(new Message({ type: 0x7778 })), 3)
  })
})

describe('malformed fronts (fuzz)', () => {
  const known = [MsgType.PING, MsgType.MON_MAP, MsgType.MON_GET_MAP, MsgType.AUTH, MsgType.AUTH_REPLY]
  const goldens = [...client, ...server].filter((m) => m.front.length > 0)

  it('random fronts give a typed message or BAD_PAYLOAD, nothing else', () => {
    fc.assert(fc.property(fc.constantFrom(...known), fc.uint8Array({ maxLength: 300 }), (type, front) => {
      succeedsOrBadPayload(() => decodeTypedMessage(new Message({ type, front })))
    }), { numRuns: 3000 })
  })

  it('random fronts that look like the real ones (length prefixes kept small) never escape as other errors', () => {
    // Small little-endian numbers make lengths and counts plausible, reaching deeper code.
    const smallish = fc.array(fc.oneof(fc.constantFrom(0, 1, 2, 4, 5, 9, 16, 28), fc.integer({ min: 0, max: 255 })), { maxLength: 300 })
    fc.assert(fc.property(fc.constantFrom(...known), smallish, (type, bytes) => {
      succeedsOrBadPayload(() => decodeTypedMessage(new Message({ type, front: Uint8Array.from(bytes) })))
    }), { numRuns: 3000 })
  })

  it('every truncation of a real front is rejected (MAuth may drop its optional epoch)', () => {
    for (const g of goldens) {
      for (let cut = 0; cut < g.front.length; cut++) {
        const m = new Message({ type: g.type, front: g.front.subarray(0, cut) })
        const ok = succeedsOrBadPayload(() => decodeTypedMessage(m))
        const allowed = (g.type === MsgType.AUTH && cut === 51) || (g.type === MsgType.PING && cut === 0)
        assert.equal(ok, allowed, `type ${g.type} cut at ${cut}`)
      }
    }
  })

  it('single-byte corruptions of the real fronts never escape as other errors', () => {
    fc.assert(fc.property(fc.constantFrom(...goldens), fc.nat(), fc.integer({ min: 1, max: 255 }), (g, atSeed, xor) => {
      const front = g.front.slice()
      front[atSeed % front.length] ^= xor
      succeedsOrBadPayload(() => decodeTypedMessage(new Message({ type: g.type, front })))
    }), { numRuns: 3000 })
  })

  it('a pong whose string length overruns the front is rejected', () => {
    const front = new Encoder().u32(10).bytes(Uint8Array.of(0x7b)).finish()
    expectBadPayload(() => decodeTypedMessage(new Message({ type: MsgType.PING, front })), 0)
  })
})
