import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import {
  decodeConnectFixed, decodeConnectReplyFixed, encodeConnect, encodeConnectReply, encodeSeq, readU64, writeU64
} from '../../lib/wire/connect.ts'
import { CONNECT_LEN, CONNECT_REPLY_LEN, Tag } from '../../lib/wire/constants.ts'
import { CLIENT_AT, SERVER_AT, clientBytes, serverBytes } from './fixture.ts'

const u8 = fc.integer({ min: 0, max: 255 })
const u32 = fc.integer({ min: 0, max: 0xffffffff })
const u64 = fc.bigInt({ min: 0n, max: (1n << 64n) - 1n })
const authorizer = fc.uint8Array({ maxLength: 64 })

const connectArb = fc.record({
  features: u64,
  hostType: u32,
  globalSeq: u32,
  connectSeq: u32,
  protocolVersion: u32,
  authorizerProtocol: u32,
  flags: u8,
  authorizer
}).map((c) => ({ ...c }))

const replyArb = fc.record({
  tag: u8,
  features: u64,
  globalSeq: u32,
  connectSeq: u32,
  protocolVersion: u32,
  flags: u8,
  authorizer
}).map((r) => ({ ...r }))

describe('ceph_msg_connect', () => {
  it('round-trips every field, the authorizer following the 33 fixed bytes', () => {
    fc.assert(fc.property(connectArb, fc.nat(7), (c, pad) => {
      const b = encodeConnect(c)
      assert.equal(b.length, CONNECT_LEN + c.authorizer.length)
      // Decode from a view (non-zero byteOffset) at an offset inside a bigger buffer.
      const big = new Uint8Array(1 + pad + b.length + 3)
      big.set(b, 1 + pad)
      const d = decodeConnectFixed(big.subarray(1), pad)
      d.authorizer = b.subarray(CONNECT_LEN, CONNECT_LEN + d.authorizerLen)
      assert.deepEqual(d, { ...c, authorizerLen: c.authorizer.length })
    }), { numRuns: 300 })
  })

  it('puts each field at its documented offset', () => {
    fc.assert(fc.property(connectArb, (c) => {
      const b = encodeConnect(c)
      const dv = new DataView(b.buffer)
      assert.equal(dv.getBigUint64(0, true), c.features)
      assert.equal(dv.getUint32(8, true), c.hostType)
      assert.equal(dv.getUint32(12, true), c.globalSeq)
      assert.equal(dv.getUint32(16, true), c.connectSeq)
      assert.equal(dv.getUint32(20, true), c.protocolVersion)
      assert.equal(dv.getUint32(24, true), c.authorizerProtocol)
      assert.equal(dv.getUint32(28, true), c.authorizer.length)
      assert.equal(b[32], c.flags)
    }), { numRuns: 100 })
  })

  it('re-encodes the real connect byte for byte', () => {
    const real = clientBytes.subarray(CLIENT_AT.connect, CLIENT_AT.connect + CONNECT_LEN)
    const c = decodeConnectFixed(real)
    assert.equal(c.features, 0x3f01cfbdfffdffffn)
    assert.deepEqual(encodeConnect(c), real)
  })
})

describe('ceph_msg_connect_reply', () => {
  it('round-trips every field', () => {
    fc.assert(fc.property(replyArb, (r) => {
      const b = encodeConnectReply(r)
      assert.equal(b.length, CONNECT_REPLY_LEN + r.authorizer.length)
      const d = decodeConnectReplyFixed(b)
      d.authorizer = b.subarray(CONNECT_REPLY_LEN)
      assert.deepEqual(d, { ...r, authorizerLen: r.authorizer.length })
    }), { numRuns: 300 })
  })

  it('puts each field at its documented offset', () => {
    fc.assert(fc.property(replyArb, (r) => {
      const b = encodeConnectReply(r)
      const dv = new DataView(b.buffer)
      assert.equal(b[0], r.tag)
      assert.equal(dv.getBigUint64(1, true), r.features)
      assert.equal(dv.getUint32(9, true), r.globalSeq)
      assert.equal(dv.getUint32(13, true), r.connectSeq)
      assert.equal(dv.getUint32(17, true), r.protocolVersion)
      assert.equal(dv.getUint32(21, true), r.authorizer.length)
      assert.equal(b[25], r.flags)
    }), { numRuns: 100 })
  })

  it('decodes at an offset and re-encodes the real reply byte for byte', () => {
    const r = decodeConnectReplyFixed(serverBytes, SERVER_AT.reply)
    assert.equal(r.tag, Tag.SEQ)
    assert.deepEqual(encodeConnectReply(r), serverBytes.subarray(SERVER_AT.reply, SERVER_AT.reply + CONNECT_REPLY_LEN))
  })
})

describe('u64 helpers and the TAG_SEQ body', () => {
  it('writeU64/readU64 agree with DataView for safe integers', () => {
    fc.assert(fc.property(fc.maxSafeNat(), fc.nat(8), (v, at) => {
      const b = new Uint8Array(at + 8)
      writeU64(b, at, v)
      assert.equal(new DataView(b.buffer).getBigUint64(at, true), BigInt(v))
      assert.equal(readU64(b, at), v)
      assert.deepEqual(encodeSeq(v), b.subarray(at))
    }), { numRuns: 300 })
  })

  it('readU64 reads the capture\'s seq exchange (0 both ways)', () => {
    assert.equal(readU64(serverBytes, SERVER_AT.seq), 0)
    assert.equal(readU64(clientBytes, CLIENT_AT.seq), 0)
  })
})
