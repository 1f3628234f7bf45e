// Hostile input: whatever arrives, the decoder yields frames, waits, or throws a ProtocolError
// with a known code and an offset inside the input; it never loops and never accepts a length
// beyond its limits.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { CONNECT_LEN, FooterFlag, HEADER_LEN, Tag } from '../../lib/wire/constants.ts'
import { ConversationError, decodeConversation } from '../../lib/wire/conversation.ts'
import { FrameDecoder } from '../../lib/wire/decoder.ts'
import type { DecoderOptions, Phase } from '../../lib/wire/decoder.ts'
import {
  encodeAck, encodeBanner, encodeConnect, encodeConnectReply, encodeMessage, encodeServerHello
} from '../../lib/wire/encoder.ts'
import type { OutgoingMessage } from '../../lib/wire/encoder.ts'
import { AF_INET, AddrType, encodeEntityAddr } from '../../lib/wire/entity-addr.ts'
import { ErrorCode, ProtocolError } from '../../lib/wire/errors.ts'
import { Feature, PACIFIC_SUPPORTED } from '../../lib/wire/features.ts'
import type { Frame } from '../../lib/wire/frame.ts'
import { encodeHeader } from '../../lib/wire/header.ts'
import type { MsgHeader } from '../../lib/wire/header.ts'
import type { DecoderLimits } from '../../lib/wire/limits.ts'
import { CLIENT_AT, SERVER_AT, clientBytes, concat, serverBytes, splitAt } from './fixture.ts'

const LIMITS: DecoderLimits = { maxFrontLen: 4096, maxMiddleLen: 4096, maxDataLen: 4096, maxAuthorizerLen: 512 }
const CODES = new Set<string>(Object.values(ErrorCode))

type Role = 'client' | 'server'
const STREAMS: Array<{ name: string, role: Role, bytes: Uint8Array }> = [
  { name: 'client → mon', role: 'server', bytes: clientBytes },
  { name: 'mon → client', role: 'client', bytes: serverBytes }
]

function assertProtocolError (e: unknown, inputLen: number): asserts e is ProtocolError {
  if (!(e instanceof ProtocolError)) throw new assert.AssertionError({ message: `not a ProtocolError: ${String(e)}`, actual: e })
  assert.ok(CODES.has(e.code), `unknown code ${e.code}`)
  assert.ok(Number.isFinite(e.offset) && e.offset >= 0 && e.offset <= inputLen, `offset ${e.offset} outside [0, ${inputLen}]`)
}

function assertWithinLimits (f: Frame, l: DecoderLimits): void {
  if (f.kind === 'msg') {
    assert.ok(f.front.length <= l.maxFrontLen && f.middle.length <= l.maxMiddleLen && f.data.length <= l.maxDataLen)
  } else if (f.kind === 'connect') {
    assert.ok(f.connect.authorizer.length <= l.maxAuthorizerLen)
  } else if (f.kind === 'connect_reply') {
    assert.ok(f.reply.authorizer.length <= l.maxAuthorizerLen)
  }
}

interface FuzzRun {
  frames: Frame[]
  error?: ProtocolError
}

/**
 * Drive a decoder over `input` cut at `points`, answering pauses with the `answers` in turn.
 * Checks the invariants on the way; returns what came out.
 */
function fuzzDrive (role: Role, input: Uint8Array, points: number[], answers: Array<'connect' | 'seq' | 'tags'>, opts: Partial<DecoderOptions> = {}): FuzzRun {
  const dec = new FrameDecoder({ role, limits: LIMITS, ...opts })
  const chunks = splitAt(input, points)
  const frames: Frame[] = []
  // Every frame consumes at least one byte; every chunk ends in at most one pause and one wait.
  const budget = input.length + 2 * chunks.length + 4
  let steps = 0
  let k = 0
  try {
    for (const chunk of chunks) {
      dec.push(chunk)
      while (true) {
        assert.ok(++steps <= budget, 'decoder made no progress')
        const before = dec.offset
        const f = dec.next()
        assert.ok(dec.buffered <= input.length)
        const p = dec.pendingHeader
        if (p !== undefined) {
          // A header is only accepted (and its payload waited for) within the limits.
          assert.ok(p.frontLen <= LIMITS.maxFrontLen && p.middleLen <= LIMITS.maxMiddleLen && p.dataLen <= LIMITS.maxDataLen)
        }
        if (f !== undefined) {
          assert.ok(dec.offset > before, 'a frame consumes bytes')
          assertWithinLimits(f, LIMITS)
          frames.push(f)
          continue
        }
        if (dec.phase === 'paused') { dec.expect(answers[k++ % answers.length]); continue }
        break
      }
    }
    if (dec.phase !== 'closed') dec.end()
  } catch (e) {
    assertProtocolError(e, input.length)
    return { frames, error: e }
  }
  return { frames }
}

// Mutations of a real stream.
const answersArb = fc.array(fc.constantFrom<'connect' | 'seq' | 'tags'>('seq', 'tags', 'connect'), { minLength: 1, maxLength: 3 })
const pointsArb = fc.array(fc.nat(5000), { maxLength: 12 })

function flip (bytes: Uint8Array, flips: Array<{ at: number, bit: number }>): Uint8Array {
  const out = bytes.slice()
  for (const { at, bit } of flips) out[at % out.length] ^= 1 << bit
  return out
}

function setBytes (bytes: Uint8Array, sets: Array<{ at: number, v: number }>): Uint8Array {
  const out = bytes.slice()
  for (const { at, v } of sets) out[at % out.length] = v
  return out
}

describe('decoder fuzz: random damage to the real streams', () => {
  for (const { name, role, bytes } of STREAMS) {
    const len = bytes.length

    it(`${name}: bit flips`, () => {
      fc.assert(fc.property(
        fc.array(fc.record({ at: fc.nat(len - 1), bit: fc.nat(7) }), { minLength: 1, maxLength: 6 }), pointsArb, answersArb,
        (flips, points, answers) => { fuzzDrive(role, flip(bytes, flips), points, answers) }
      ), { numRuns: 600 })
    })

    it(`${name}: bytes set to interesting values`, () => {
      const v = fc.constantFrom(0, 1, 2, 6, 7, 8, 9, 13, 14, 15, 16, 0x7f, 0x80, 0xfe, 0xff)
      fc.assert(fc.property(
        fc.array(fc.record({ at: fc.nat(len - 1), v }), { minLength: 1, maxLength: 4 }), pointsArb, answersArb,
        (sets, points, answers) => { fuzzDrive(role, setBytes(bytes, sets), points, answers) }
      ), { numRuns: 500 })
    })

    it(`${name}: truncation`, () => {
      fc.assert(fc.property(fc.nat(len), pointsArb, (cut, points) => {
        const r = fuzzDrive(role, bytes.subarray(0, cut), points, ['seq'])
        // A clean prefix is either complete or TRUNCATED, nothing else.
        if (r.error !== undefined) assert.equal(r.error.code, ErrorCode.TRUNCATED)
      }), { numRuns: 500 })
    })

    it(`${name}: extension with random bytes`, () => {
      fc.assert(fc.property(fc.uint8Array({ minLength: 1, maxLength: 400 }), pointsArb, (tail, points) => {
        const r = fuzzDrive(role, concat([bytes, tail]), points, ['seq'])
        assert.ok(r.frames.length >= (role === 'server' ? 7 : 9), 'the real frames come out first')
      }), { numRuns: 500 })
    })

    it(`${name}: splices of both streams`, () => {
      fc.assert(fc.property(
        fc.nat(len), fc.boolean(), fc.nat(5000), fc.nat(5000), pointsArb, answersArb,
        (i, same, j, k, points, answers) => {
          const other = same ? bytes : (bytes === clientBytes ? serverBytes : clientBytes)
          const a = Math.min(j, other.length)
          const b = Math.min(k, other.length)
          // prefix of ours + a slice of either stream + the rest of ours
          const input = concat([bytes.subarray(0, i), other.subarray(Math.min(a, b), Math.max(a, b)), bytes.subarray(i)])
          fuzzDrive(role, input, points, answers)
        }
      ), { numRuns: 500 })
    })

    it(`${name}: damage with crc checks off still respects the limits`, () => {
      fc.assert(fc.property(
        fc.array(fc.record({ at: fc.nat(len - 1), bit: fc.nat(7) }), { minLength: 1, maxLength: 4 }), pointsArb, answersArb,
        (flips, points, answers) => {
          fuzzDrive(role, flip(bytes, flips), points, answers, { crcHeader: false, crcData: false })
        }
      ), { numRuns: 400 })
    })
  }

  it('random bytes in every starting phase', () => {
    const phases: Phase[] = ['banner', 'self_addr', 'peer_addr', 'connect', 'connect_reply', 'seq', 'tags', 'closed']
    fc.assert(fc.property(
      fc.constantFrom<Role>('client', 'server'), fc.constantFrom(...phases), fc.uint8Array({ maxLength: 300 }), pointsArb, answersArb,
      fc.boolean(),
      (role, phase, input, points, answers, crc) => {
        fuzzDrive(role, input, points, answers, { phase, crcHeader: crc, crcData: crc })
      }
    ), { numRuns: 800 })
  })

  it('decodeConversation over damaged pairs throws only ConversationError(ProtocolError)', () => {
    fc.assert(fc.property(
      fc.array(fc.record({ at: fc.nat(clientBytes.length - 1), bit: fc.nat(7) }), { maxLength: 2 }),
      fc.array(fc.record({ at: fc.nat(serverBytes.length - 1), bit: fc.nat(7) }), { maxLength: 2 }),
      fc.nat(clientBytes.length), fc.nat(serverBytes.length),
      (cf, sf, ccut, scut) => {
        const c = flip(clientBytes, cf).subarray(0, ccut)
        const s = flip(serverBytes, sf).subarray(0, scut)
        try {
          for (const _ of decodeConversation(c, s, { limits: LIMITS })) { /* drain */ }
        } catch (e) {
          assert.ok(e instanceof ConversationError, String(e))
          assertProtocolError(e.cause, e.from === 'client' ? c.length : s.length)
        }
      }
    ), { numRuns: 300 })
  })
})

// ---------------------------------------------------------------------------------------------

function expectCode (fn: () => unknown, code: string, offset?: number): ProtocolError {
  let caught: unknown
  try { fn() } catch (e) { caught = e }
  assert.ok(caught instanceof ProtocolError, `expected ${code}, got ${String(caught)}`)
  assert.equal(caught.code, code)
  if (offset !== undefined) assert.equal(caught.offset, offset)
  return caught
}

function decodeAll (dec: FrameDecoder, bytes: Uint8Array, answer: 'seq' | 'tags' | 'connect' = 'seq'): Frame[] {
  dec.push(bytes)
  const out: Frame[] = []
  while (true) {
    const f = dec.next()
    if (f !== undefined) { out.push(f); continue }
    if (dec.phase !== 'paused') return out
    dec.expect(answer)
  }
}

const mon0 = { type: 1, num: 0 }
function message (front: number, middle: number, data: number): OutgoingMessage {
  return {
    header: { seq: 1, tid: 7, type: 42, priority: 127, version: 1, dataOff: 0, src: mon0, compatVersion: 1 },
    front: new Uint8Array(front).fill(0x11),
    middle: new Uint8Array(middle).fill(0x22),
    data: new Uint8Array(data).map((_, i) => i)
  }
}
function tagsDecoder (opts: Partial<DecoderOptions> = {}): FrameDecoder {
  return new FrameDecoder({ role: 'client', phase: 'tags', msgAuth: true, limits: LIMITS, ...opts })
}

describe('decoder: specific failures', () => {
  it('bad banner: refused at the first differing byte, before 9 bytes arrive', () => {
    for (const role of ['client', 'server'] as const) {
      expectCode(() => decodeAll(new FrameDecoder({ role }), new TextEncoder().encode('cex')), ErrorCode.BAD_BANNER, 2)
      expectCode(() => decodeAll(new FrameDecoder({ role }), new TextEncoder().encode('X')), ErrorCode.BAD_BANNER, 0)
      expectCode(() => decodeAll(new FrameDecoder({ role }), new TextEncoder().encode('ceph v028')), ErrorCode.BAD_BANNER, 8)
      // The same across chunks: 'ce' waits, then 'x' fails at offset 2.
      const dec = new FrameDecoder({ role })
      assert.deepEqual(decodeAll(dec, new TextEncoder().encode('ce')), [])
      expectCode(() => decodeAll(dec, new TextEncoder().encode('x')), ErrorCode.BAD_BANNER, 2)
      // msgr2's banner is refused too.
      expectCode(() => decodeAll(new FrameDecoder({ role }), new TextEncoder().encode('ceph v2\n')), ErrorCode.BAD_BANNER, 6)
    }
  })

  it('bad header crc: refused as soon as the header is in, before its payload', () => {
    const b = clientBytes.slice(0, CLIENT_AT.mauth + 1 + HEADER_LEN)
    b[CLIENT_AT.mauth + 1 + 16] ^= 0x01 // the type field
    expectCode(() => decodeAll(new FrameDecoder({ role: 'server' }), b), ErrorCode.BAD_HEADER_CRC, CLIENT_AT.mauth + 1)
    // ... also when the crc field itself is damaged
    const c = clientBytes.slice()
    c[CLIENT_AT.mauth + 1 + 49] ^= 0x80
    expectCode(() => decodeAll(new FrameDecoder({ role: 'server' }), c), ErrorCode.BAD_HEADER_CRC, CLIENT_AT.mauth + 1)
  })

  it('bad front crc (a damaged byte of the real MAuth front)', () => {
    const b = clientBytes.slice()
    const frontAt = CLIENT_AT.mauth + 1 + HEADER_LEN
    b[frontAt + 30] ^= 0x04
    expectCode(() => decodeAll(new FrameDecoder({ role: 'server' }), b), ErrorCode.BAD_FRONT_CRC, frontAt)
    // A non-zero crc for an empty front is as wrong.
    const c = clientBytes.slice()
    c[CLIENT_AT.mping + 1 + HEADER_LEN] = 1
    expectCode(() => decodeAll(new FrameDecoder({ role: 'server' }), c), ErrorCode.BAD_FRONT_CRC, CLIENT_AT.mping + 1 + HEADER_LEN)
  })

  it('a large payload gathered across chunks: each section\'s crc still checked', () => {
    const big = { maxFrontLen: 1 << 20, maxMiddleLen: 1 << 20, maxDataLen: 1 << 20 }
    const bytes = concat(encodeMessage(message(70_000, 30_000, 200_000), true))
    const decodeIn = (b: Uint8Array, chunk: number): Frame[] => {
      const dec = tagsDecoder({ limits: big })
      const out: Frame[] = []
      for (let at = 0; at < b.length; at += chunk) {
        dec.push(b.subarray(at, Math.min(b.length, at + chunk)))
        out.push(...dec.drain())
      }
      return out
    }
    for (const chunk of [4096, 65_536, 99_991]) {
      const [f] = decodeIn(bytes, chunk)
      assert.ok(f.kind === 'msg' && f.front.length === 70_000 && f.middle.length === 30_000 && f.data.length === 200_000)
      assert.ok(f.data.every((x, i) => x === (i & 0xff)))
      const at = 1 + HEADER_LEN
      for (const [offset, code] of [[at + 5, ErrorCode.BAD_FRONT_CRC], [at + 69_999, ErrorCode.BAD_FRONT_CRC], [at + 70_000, ErrorCode.BAD_MIDDLE_CRC],
        [at + 99_999, ErrorCode.BAD_MIDDLE_CRC], [at + 100_000, ErrorCode.BAD_DATA_CRC], [at + 299_999, ErrorCode.BAD_DATA_CRC]] as const) {
        const bad = bytes.slice()
        bad[offset] ^= 0x10
        expectCode(() => decodeIn(bad, chunk), code)
      }
    }
  })

  it('bad middle crc and bad data crc', () => {
    const bytes = concat(encodeMessage(message(10, 20, 100), true))
    const m = bytes.slice()
    m[1 + HEADER_LEN + 10 + 5] ^= 1
    expectCode(() => decodeAll(tagsDecoder(), m), ErrorCode.BAD_MIDDLE_CRC, 1 + HEADER_LEN + 10)
    const d = bytes.slice()
    d[1 + HEADER_LEN + 30 + 99] ^= 1
    expectCode(() => decodeAll(tagsDecoder(), d), ErrorCode.BAD_DATA_CRC, 1 + HEADER_LEN + 30)
    // Undamaged: the data crc was checked.
    const [f] = decodeAll(tagsDecoder(), bytes)
    assert.ok(f.kind === 'msg' && f.dataCrcChecked)
  })

  it('NOCRC in the footer skips the data crc (and so does crcData: false)', () => {
    const noCrc = concat(encodeMessage(message(10, 0, 100), true, { crcData: false }))
    noCrc[1 + HEADER_LEN + 10 + 50] ^= 0xff
    const [f] = decodeAll(tagsDecoder(), noCrc)
    assert.ok(f.kind === 'msg')
    assert.equal(f.footer.flags, FooterFlag.COMPLETE | FooterFlag.NOCRC)
    assert.equal(f.footer.dataCrc, 0)
    assert.equal(f.dataCrcChecked, false)
    assert.equal(f.data[50], 50 ^ 0xff)

    const withCrc = concat(encodeMessage(message(10, 0, 100), true))
    withCrc[1 + HEADER_LEN + 10 + 50] ^= 0xff
    const [g] = decodeAll(tagsDecoder({ crcData: false }), withCrc)
    assert.ok(g.kind === 'msg' && !g.dataCrcChecked)
  })

  it('footer without COMPLETE → MSG_ABORTED', () => {
    for (const flags of [0, FooterFlag.NOCRC, FooterFlag.SIGNED]) {
      const b = clientBytes.slice()
      b[clientBytes.length - 1] = flags // the MPing footer's flags byte
      expectCode(() => decodeAll(new FrameDecoder({ role: 'server' }), b), ErrorCode.MSG_ABORTED, clientBytes.length - 1)
    }
  })

  it('unknown tag → UNKNOWN_TAG (open session and connect_reply)', () => {
    expectCode(() => decodeAll(tagsDecoder(), Uint8Array.of(0x42)), ErrorCode.UNKNOWN_TAG, 0)
    for (const tag of [0, Tag.READY, Tag.SEQ, Tag.CHALLENGE_AUTHORIZER, 17, 255]) {
      const b = clientBytes.slice()
      b[CLIENT_AT.keepalive2] = tag
      expectCode(() => decodeAll(new FrameDecoder({ role: 'server' }), b), ErrorCode.UNKNOWN_TAG, CLIENT_AT.keepalive2)
    }
    for (const tag of [0, Tag.CLOSE, Tag.MSG, Tag.ACK, Tag.KEEPALIVE, Tag.KEEPALIVE2, Tag.KEEPALIVE2_ACK, 17, 200]) {
      const b = serverBytes.slice()
      b[SERVER_AT.reply] = tag
      expectCode(() => decodeAll(new FrameDecoder({ role: 'client' }), b), ErrorCode.UNKNOWN_TAG, SERVER_AT.reply)
    }
  })

  it('front_len of 4 GiB → TOO_LARGE from the header alone (default limits too)', () => {
    const h: MsgHeader = {
      seq: 1, tid: 0, type: 2, priority: 127, version: 1, frontLen: 0xffffffff, middleLen: 0, dataLen: 0, dataOff: 0,
      src: mon0, compatVersion: 1, reserved: 0, crc: 0
    }
    const frame = (hh: MsgHeader): Uint8Array => concat([Uint8Array.of(Tag.MSG), encodeHeader(hh, true)])
    expectCode(() => decodeAll(tagsDecoder(), frame(h)), ErrorCode.TOO_LARGE, 1 + 22)
    expectCode(() => decodeAll(tagsDecoder({ limits: {} }), frame(h)), ErrorCode.TOO_LARGE, 1 + 22)
    expectCode(() => decodeAll(tagsDecoder(), frame({ ...h, frontLen: 0, middleLen: 4097 })), ErrorCode.TOO_LARGE, 1 + 26)
    expectCode(() => decodeAll(tagsDecoder(), frame({ ...h, frontLen: 0, dataLen: 0x80000000 })), ErrorCode.TOO_LARGE, 1 + 30)
    // Exactly at the limit: accepted, and the decoder waits for the payload.
    const dec = tagsDecoder()
    assert.deepEqual(decodeAll(dec, frame({ ...h, frontLen: 4096 })), [])
    assert.equal(dec.pendingHeader?.frontLen, 4096)
    assert.equal(dec.buffered, 0)
  })

  it('huge authorizer_len → BAD_AUTHORIZER_LEN from the fixed part alone', () => {
    // server role: the client's connect
    const c = clientBytes.slice(0, CLIENT_AT.connect + CONNECT_LEN)
    new DataView(c.buffer).setUint32(CLIENT_AT.connect + 28, 0xffffffff, true)
    expectCode(() => decodeAll(new FrameDecoder({ role: 'server' }), c), ErrorCode.BAD_AUTHORIZER_LEN, CLIENT_AT.connect + 28)
    new DataView(c.buffer).setUint32(CLIENT_AT.connect + 28, 4096, true)
    expectCode(() => decodeAll(new FrameDecoder({ role: 'server' }), c), ErrorCode.BAD_AUTHORIZER_LEN, CLIENT_AT.connect + 28)
    // client role: the server's connect_reply
    const s = serverBytes.slice(0, SERVER_AT.reply + 26)
    new DataView(s.buffer).setUint32(SERVER_AT.reply + 21, 0x7fffffff, true)
    expectCode(() => decodeAll(new FrameDecoder({ role: 'client' }), s), ErrorCode.BAD_AUTHORIZER_LEN, SERVER_AT.reply + 21)
  })

  it('a stream ending mid-frame → end() throws TRUNCATED at the unfinished frame', () => {
    for (const cut of [5, SERVER_AT.reply + 10, SERVER_AT.pong + 1 + HEADER_LEN + 100, serverBytes.length - 1]) {
      const dec = new FrameDecoder({ role: 'client' })
      decodeAll(dec, serverBytes.subarray(0, cut))
      const e = expectCode(() => dec.end(), ErrorCode.TRUNCATED)
      assert.equal(e.offset, dec.offset)
      assert.ok(e.offset <= cut)
    }
    // Mid-payload: the header was consumed, so nothing is buffered but the frame is unfinished.
    const dec = new FrameDecoder({ role: 'client' })
    decodeAll(dec, serverBytes.subarray(0, SERVER_AT.pong + 1 + HEADER_LEN))
    assert.equal(dec.buffered, 0)
    expectCode(() => dec.end(), ErrorCode.TRUNCATED, SERVER_AT.pong + 1 + HEADER_LEN)
  })

  it('bytes after CLOSE → UNEXPECTED_DATA', () => {
    const dec = tagsDecoder()
    expectCode(() => decodeAll(dec, concat([encodeAck(3), Uint8Array.of(Tag.CLOSE), encodeAck(4)])), ErrorCode.UNEXPECTED_DATA, 10)
  })

  it('a bad address family in the banner → BAD_ADDR', () => {
    const b = serverBytes.slice()
    b[SERVER_AT.addr + 9] = 99
    expectCode(() => decodeAll(new FrameDecoder({ role: 'client' }), b), ErrorCode.BAD_ADDR, SERVER_AT.addr + 8)
  })
})

describe('decoder: the old 13-byte footer when MSG_AUTH is not negotiated', () => {
  const noAuth = PACIFIC_SUPPORTED & ~Feature.MSG_AUTH
  const me = { type: AddrType.LEGACY, nonce: 5, family: AF_INET, ip: '127.0.0.1', port: 0 }
  const mon = { type: AddrType.LEGACY, nonce: 0, family: AF_INET, ip: '127.0.0.1', port: 6789 }
  const connect = { features: noAuth, hostType: 8, globalSeq: 1, connectSeq: 0, protocolVersion: 15, authorizerProtocol: 0, flags: 0 }
  const reply = { tag: Tag.READY, features: PACIFIC_SUPPORTED, globalSeq: 2, connectSeq: 1, protocolVersion: 15, flags: 1 }
  const clientStream = concat([encodeBanner(), encodeEntityAddr(me), encodeConnect(connect), ...encodeMessage(message(5, 0, 7), false)])
  const serverStream = concat([encodeServerHello(mon, me), encodeConnectReply(reply), ...encodeMessage(message(3, 0, 0), false)])

  it('server role: the client offered no MSG_AUTH', () => {
    const dec = new FrameDecoder({ role: 'server' })
    const frames = decodeAll(dec, clientStream, 'tags')
    assert.deepEqual(frames.map((f) => f.kind), ['banner', 'addr', 'connect', 'msg'])
    const m = frames[3]
    assert.ok(m.kind === 'msg')
    assert.equal(m.data.length, 7)
    assert.equal(m.footer.sig, 0n)
    dec.end()
  })

  it('client role: the server replied without MSG_AUTH', () => {
    const dec = new FrameDecoder({ role: 'client', features: noAuth })
    const frames = decodeAll(dec, serverStream)
    assert.deepEqual(frames.map((f) => f.kind), ['banner', 'addr', 'addr', 'connect_reply', 'msg'])
    dec.end()
  })

  it('decodeConversation negotiates it from both sides', () => {
    const all = [...decodeConversation(clientStream, serverStream)]
    assert.deepEqual(all.map((f) => `${f.from} ${f.frame.kind}`), [
      'client banner', 'server banner', 'server addr', 'server addr', 'client addr', 'client connect',
      'server connect_reply', 'client msg', 'server msg'
    ])
  })

  it('a 21-byte footer where 13 are expected is not silently accepted', () => {
    const wrong = concat([encodeBanner(), encodeEntityAddr(me), encodeConnect(connect), ...encodeMessage(message(5, 0, 7), true)])
    const dec = new FrameDecoder({ role: 'server' })
    // The last 8 bytes are left over as the start of another frame (or refused as a tag).
    assert.throws(() => { decodeAll(dec, wrong, 'tags'); dec.end() }, ProtocolError)
  })
})
