// The real msgr2.1 captures (Ceph 16.2.15 client and mon; crc mode with auth none and cephx,
// secure mode, keepalives), every frame decoded and checked against the independent decoder's
// listing (frames.txt), then encoded again and compared byte for byte with the wire, secure
// mode included (same key, same nonce sequence, same ciphertext).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createHmac } from 'node:crypto'
import { Tag, tagName } from '../../lib/wire-v2/constants.ts'
import { V2FrameEncoder } from '../../lib/wire-v2/encoder.ts'
import { decodeControlFrame, encodeControl } from '../../lib/wire-v2/frames.ts'
import type { ControlFrame } from '../../lib/wire-v2/frames.ts'
import { decodeMessageFrame } from '../../lib/wire-v2/message.ts'
import { encodeHeader2 } from '../../lib/wire-v2/header2.ts'
import { encodeBanner, negotiateBanner } from '../../lib/wire-v2/banner.ts'
import { secureCiphers } from '../../lib/wire-v2/gcm.ts'
import { AF_INET, AddrType } from '../../lib/wire/entity-addr.ts'
import type { EntityAddr } from '../../lib/wire-v2/addr.ts'
import type { Frame } from '../../lib/wire-v2/frame.ts'
import { SWITCH_AFTER, captureName, captures, concat, decodeDirection } from './fixture.ts'
import type { Capture, Dir, ListedFrame } from './fixture.ts'

const typeNames: Record<number, string> = { [AddrType.NONE]: 'none', [AddrType.LEGACY]: 'v1', [AddrType.MSGR2]: 'v2', [AddrType.ANY]: 'any' }

/** v2-dump.py's form: "v2:127.0.0.1:13310/0 (fam=2,salen=16,enc v1)". */
function addrText (a: EntityAddr): string {
  assert.equal(a.family, AF_INET, 'the captures only hold IPv4 addresses')
  return `${typeNames[a.type]}:${a.ip}:${a.port}/${a.nonce} (fam=2,salen=16,enc v1)`
}

function hex (b: Uint8Array): string {
  return Buffer.from(b).toString('hex')
}

function detail (l: ListedFrame, re: RegExp): RegExpExecArray {
  for (const d of l.details) {
    const m = re.exec(d)
    if (m !== null) return m
  }
  assert.fail(`frame #${l.index} ${l.tag}: no detail line matches ${re}`)
}

function checkIdent (c: ControlFrame, l: ListedFrame): void {
  if (c.tag !== Tag.CLIENT_IDENT && c.tag !== Tag.SERVER_IDENT) return
  const target = c.tag === Tag.CLIENT_IDENT ? ` target_addr=${addrText(c.targetAddr)}` : ''
  const text = `addrs=[${c.addrs.map(addrText).join(', ')}]${target} gid=${c.gid} global_seq=${c.globalSeq} ` +
    `supported_features=0x${c.supportedFeatures.toString(16)} required_features=0x${c.requiredFeatures.toString(16)} ` +
    `flags=0x${c.flags.toString(16)} cookie=0x${c.cookie.toString(16)}`
  assert.equal(l.details.find((d) => d.startsWith('addrs=')), text)
}

/** The decoded payload against the listing's detail lines, field by field. */
function checkControl (c: ControlFrame, l: ListedFrame): void {
  switch (c.tag) {
    case Tag.HELLO: {
      const m = detail(l, /^entity_type=(\d+)\(\w+\) peer_addr=(.*)$/)
      assert.equal(c.entityType, Number(m[1]))
      assert.equal(addrText(c.peerAddr), m[2])
      assert.equal(c.peerAddr.type, AddrType.MSGR2)
      break
    }
    case Tag.AUTH_REQUEST: {
      const m = detail(l, /^method=(\d+)\(\w+\) preferred_modes=\[([\d, ]*)\] auth_payload\((\d+)\)=([0-9a-f]*)$/)
      assert.equal(c.method, Number(m[1]))
      assert.deepEqual(c.preferredModes, m[2].split(',').map(Number))
      assert.equal(c.payload.length, Number(m[3]))
      assert.equal(hex(c.payload), m[4])
      break
    }
    case Tag.AUTH_REPLY_MORE:
    case Tag.AUTH_REQUEST_MORE: {
      const m = detail(l, /^payload\((\d+)\)=([0-9a-f]+)/)
      assert.equal(c.payload.length, Number(m[1]))
      assert.equal(hex(c.payload), m[2])
      break
    }
    case Tag.AUTH_DONE: {
      const m = detail(l, /^global_id=(\d+) con_mode=(\d+)\(\w+\) auth_payload\((\d+) bytes\)$/)
      assert.equal(c.globalId, BigInt(m[1]))
      assert.equal(c.conMode, Number(m[2]))
      assert.equal(c.payload.length, Number(m[3]))
      break
    }
    case Tag.AUTH_SIGNATURE:
      assert.equal(hex(c.signature), detail(l, /^sha256=([0-9a-f]{64})$/)[1])
      break
    case Tag.CLIENT_IDENT:
    case Tag.SERVER_IDENT:
      checkIdent(c, l)
      break
    case Tag.KEEPALIVE2:
    case Tag.KEEPALIVE2_ACK: {
      const m = detail(l, /^timestamp sec=(\d+) nsec=(\d+)$/)
      assert.deepEqual(c.stamp, { sec: Number(m[1]), nsec: Number(m[2]) })
      break
    }
    default:
      assert.fail(`${tagName(c.tag)} is not in the captures`)
  }
}

function checkMessage (f: Frame, l: ListedFrame): void {
  const m = decodeMessageFrame(f)
  const fields = detail(l, /^ceph_msg_header2\{(.*)\}$/)[1]
  const want: Record<string, number> = {}
  for (const kv of fields.split(' ')) {
    const [k, v] = kv.split('=')
    want[k] = Number(v.replace(/\(.*$/, ''))
  }
  const h = m.header
  assert.deepEqual({
    seq: h.seq, tid: h.tid, type: h.type, priority: h.priority, version: h.version, data_pre_padding_len: h.dataPrePaddingLen,
    data_off: h.dataOff, ack_seq: h.ackSeq, flags: h.flags, compat_version: h.compatVersion, reserved: h.reserved
  }, want)
  const front = l.details.find((d) => d.startsWith('front['))
  if (front === undefined) {
    assert.equal(m.front.length, 0)
  } else {
    const fm = /^front\[(\d+)\]: ([0-9a-f]+)(\.\.\.)?$/.exec(front)
    assert.ok(fm !== null)
    assert.equal(m.front.length, Number(fm[1]))
    assert.ok(hex(m.front).startsWith(fm[2]), 'front bytes')
  }
  assert.deepEqual(encodeHeader2(h), new Uint8Array(f.segments[0]), 'header2 re-encodes exactly')
}

/** The preamble's facts against the listing's header line. */
function checkListed (f: Frame, l: ListedFrame, secure: boolean): void {
  assert.equal(tagName(f.tag), l.tag)
  assert.equal(f.offset, l.offset)
  assert.equal(f.raw.length, l.onwire)
  assert.deepEqual(f.segments.slice(0, f.numSegments).map((s) => s.length), l.segLens)
  assert.equal(l.secure, secure)
  if (!l.secure) {
    assert.equal(f.numSegments, l.numSegments)
    assert.deepEqual(f.aligns.slice(0, f.numSegments), l.aligns)
    assert.equal(f.flags, l.flags)
  }
  const epi = l.details.find((d) => d.includes('epilogue late_status'))
  if (epi !== undefined) {
    const m = /late_status=0x([0-9a-f]{2}) crcs=([0-9a-f]{8}) ([0-9a-f]{8}) ([0-9a-f]{8})/.exec(epi)
    assert.ok(m !== null)
    const tail = f.raw.subarray(f.raw.length - 13)
    const dv = new DataView(tail.buffer, tail.byteOffset, 13)
    assert.equal(tail[0], parseInt(m[1], 16))
    assert.deepEqual([dv.getUint32(1, true), dv.getUint32(5, true), dv.getUint32(9, true)], [m[2], m[3], m[4]].map((x) => parseInt(x, 16)))
  }
}

/** Encode the direction again as its sender did (crc, then secure from the same point). */
function reencode (c: Capture, d: Dir, frames: Frame[]): Uint8Array[] {
  const enc = new V2FrameEncoder()
  const out: Uint8Array[] = []
  for (const f of frames) {
    out.push(concat(enc.encode(f.tag, f.segments)))
    if (c.secret !== undefined && f.tag === SWITCH_AFTER[d] && enc.mode === 'crc') {
      enc.enableSecure(secureCiphers(c.secret, d === 'c2s' ? 'client' : 'server').tx)
    }
  }
  return out
}

for (const c of captures) {
  for (const d of ['c2s', 's2c'] as const) {
    describe(`golden ${captureName(c, d)}`, () => {
      const bytes = c.bytes[d]
      const listed = c.listed[d]
      const { banner, frames, modes } = decodeDirection(c, d, [bytes])

      it('the banner: msgr2.1 offered, nothing required', () => {
        assert.equal(banner.supported, listed.banner.supported)
        assert.equal(banner.required, listed.banner.required)
        assert.equal(banner.raw.length, listed.banner.len)
        assert.deepEqual(banner.raw, encodeBanner({ supported: banner.supported, required: banner.required }))
        assert.equal(negotiateBanner(banner).rev1, true)
      })

      it('every frame, as frames.txt lists it, covering the whole stream', () => {
        assert.equal(frames.length, listed.frames.length)
        frames.forEach((f, i) => checkListed(f, listed.frames[i], modes[i] === 'secure'))
        const last = frames[frames.length - 1]
        assert.equal(last.offset + last.raw.length, bytes.length)
      })

      it('every payload decodes to the listed fields and encodes back to the same bytes', () => {
        frames.forEach((f, i) => {
          if (f.tag === Tag.MESSAGE) return checkMessage(f, listed.frames[i])
          const p = decodeControlFrame(f)
          checkControl(p, listed.frames[i])
          assert.deepEqual(encodeControl(p), new Uint8Array(f.segments[0]), `${tagName(f.tag)} re-encodes exactly`)
        })
      })

      it('every frame re-encodes to the bytes on the wire', () => {
        const again = reencode(c, d, frames)
        frames.forEach((f, i) => assert.deepEqual(again[i], new Uint8Array(f.raw), `frame #${i} ${tagName(f.tag)}`))
      })

      it('the raw bytes up to the AUTH_SIGNATURE are what the peer signed', () => {
        const sigAt = frames.findIndex((f) => f.tag === Tag.AUTH_SIGNATURE)
        const signed = concat([banner.raw, ...frames.slice(0, sigAt).map((f) => f.raw)])
        const other: Dir = d === 'c2s' ? 's2c' : 'c2s'
        // The signature the OTHER side sends covers what it received, i.e. this direction.
        const theirs = decodeDirection(c, other, [c.bytes[other]]).frames.find((f) => f.tag === Tag.AUTH_SIGNATURE)
        assert.ok(theirs !== undefined)
        const sig = decodeControlFrame(theirs)
        assert.ok(sig.tag === Tag.AUTH_SIGNATURE)
        if (c.sessionKey === undefined) {
          assert.deepEqual(sig.signature, new Uint8Array(32), 'auth none signs with zeros')
        } else {
          assert.equal(signed.length, c.listed[other].signedBytes)
          assert.deepEqual(new Uint8Array(createHmac('sha256', c.sessionKey).update(signed).digest()), sig.signature)
        }
      })
    })
  }
}
