// Golden: our handshakes replayed against one side of a real Ceph 16.2.15 capture produce the
// other side's bytes exactly, up to the first MESSAGE. The random parts (cookies, the client's
// address nonce, the cephx client challenge, the mon's global id) are pinned to the captured
// values through the injected sources.
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CephxAuthClient, ConMode, MonAuthServer, NoneAuthClient, parseKeyring } from '../../../lib/auth/index.ts'
import type { RandomSource } from '../../../lib/auth/index.ts'
import type { Handshake } from '../../../lib/protocol/handshake.ts'
import { protocolV2 } from '../../../lib/protocol/v2/index.ts'
import type { AcceptResult, ClientResult, FrameSource } from '../../../lib/protocol/wire-protocol.ts'
import { Policy } from '../../../lib/session/policy.ts'
import { Session } from '../../../lib/session/session.ts'
import { EntityType } from '../../../lib/wire/constants.ts'
import { AddrType } from '../../../lib/wire/entity-addr.ts'
import type { EntityAddr } from '../../../lib/wire/entity-addr.ts'
import { PACIFIC_MON_REQUIRED_FROM_CLIENTS } from '../../../lib/wire/features.ts'
import type { Frame } from '../../../lib/wire/frame.ts'
import { hex, loadCapture, printedChallenge, walkFrames } from '../../auth/capture.ts'
import { ADMIN, decoderConfig } from './pair.ts'

const MESSAGE = 17
const MON_ADDR: EntityAddr = { type: AddrType.MSGR2, nonce: 0, family: 2, ip: '127.0.0.1', port: 13310 }

/** Random bytes served from a fixed list, then an error (nothing else may be drawn). */
function scripted (...chunks: Uint8Array[]): RandomSource {
  const queue = [...chunks]
  return {
    bytes: (n) => {
      const c = queue.shift()
      if (c === undefined || c.length !== n) throw new Error(`unexpected random request of ${n} bytes`)
      return c
    }
  }
}

function u64le (v: bigint): Uint8Array {
  const b = new Uint8Array(8)
  new DataView(b.buffer).setBigUint64(0, v, true)
  return b
}

function concat (bufs: Uint8Array[]): Uint8Array {
  return new Uint8Array(Buffer.concat(bufs))
}

/** Run a handshake fed with `peer` (all of it at once); return what it wrote and how it ended. */
function replay<R> (hs: Handshake<Frame, R>, source: FrameSource, peer: Uint8Array): { wrote: Uint8Array, result: R } {
  source.push(peer)
  const out: Uint8Array[] = []
  let input: Frame | undefined
  while (true) {
    const r = hs.next(input)
    input = undefined
    if (r.done === true) return { wrote: concat(out), result: r.value }
    const step = r.value
    if (step.kind === 'write') out.push(...step.bufs)
    if (step.kind === 'read') {
      const f = source.next()
      if (f === undefined) throw new Error(`the capture ran out while the handshake expected ${step.expect}`)
      input = f
    }
  }
}

/** The captured client identity: not lossy, cookie and address nonce as captured. */
function clientSide (cookie: bigint, nonce: number, auth: () => NoneAuthClient | CephxAuthClient) {
  const proto = protocolV2({ name: { type: EntityType.CLIENT, num: -1 }, authClient: auth, random: scripted(u64le(cookie)) })
  const session = new Session(false)
  // ceph's pinger: no policy requirements beyond msgr2's own, every Pacific feature.
  const policy = Policy.losslessClient({ featuresRequired: 0n })
  let gseq = 0
  return proto.client({
    session,
    policy,
    peerAddr: MON_ADDR,
    myType: EntityType.CLIENT,
    myAddr: () => ({ type: AddrType.ANY, nonce, family: 0, ip: '', port: 0 }),
    nextGlobalSeq: () => ++gseq,
    protocolVersion: 0,
    internalDelayMs: 0,
    peerType: EntityType.MON
  }, decoderConfig)
}

describe('golden msgr2: scenario 1 (ping, crc, auth none)', () => {
  const cap = loadCapture('1-ping-v2-crc-authnone')
  const cut = (b: Uint8Array): Uint8Array => b.subarray(0, walkFrames(b, MESSAGE).at(-1)?.start)

  it('our client, fed the mon\'s bytes, sends exactly the captured client bytes up to the first MESSAGE', () => {
    const c = clientSide(0x42bab3b253ed527fn, 1384336139, () => new NoneAuthClient(ADMIN))
    const { wrote, result } = replay<ClientResult>(c.handshake, c.source, cap.s2c)
    assert.equal(result.kind, 'ready')
    assert.ok(result.kind === 'ready' && result.policy.lossy, 'SERVER_IDENT says lossy')
    const want = cut(cap.c2s)
    assert.equal(want.length, 399)
    assert.equal(hex(wrote), hex(want))
    // The mon's MESSAGEs follow in the same source, now as the session's frames: its header2's
    // ack_seq 2 first (our MMonGetMap and MPing), then the MMonMap from mon.0.
    assert.deepEqual(c.source.next(), { kind: 'ack', seq: 2 })
    const f = c.source.next()
    assert.equal(f?.kind, 'msg')
    assert.deepEqual(f?.kind === 'msg' && [f.header.seq, f.header.type, f.header.src, f.front.length], [1, 4, { type: EntityType.MON, num: 0 }, 205])
  })

  it('our mon, fed the client\'s bytes, sends exactly the captured mon bytes up to the first MESSAGE', () => {
    const proto = protocolV2({
      name: { type: EntityType.MON, num: 0 },
      authServer: new MonAuthServer({ allowNone: true, allocateGlobalId: () => 4098n }),
      addrs: () => [MON_ADDR, { type: AddrType.LEGACY, nonce: 0, family: 2, ip: '127.0.0.1', port: 16800 }],
      random: scripted()
    })
    const policy = Policy.statelessServer({ featuresRequired: PACIFIC_MON_REQUIRED_FROM_CLIENTS })
    const s = proto.accept<unknown>({
      myAddr: MON_ADDR,
      seenAddr: { type: AddrType.LEGACY, nonce: 0, family: 2, ip: '127.0.0.1', port: 49462 },
      policyFor: () => policy,
      protocolVersion: () => 0,
      lookup: () => undefined
    }, decoderConfig)
    const accepted = replay<AcceptResult<unknown>>(s.handshake, s.source, cap.c2s)
    assert.equal(accepted.result.kind, 'open')
    if (accepted.result.kind !== 'open') return
    let gseq = 1
    const opened = replay(accepted.result.pending.open({ session: new Session(true), policy, nextGlobalSeq: () => ++gseq, protocolVersion: 0 }, false), s.source, new Uint8Array(0))
    const wrote = concat([accepted.wrote, opened.wrote])
    assert.equal(hex(wrote), hex(cut(cap.s2c)))
  })
})

describe('golden msgr2: scenario 2 (ping, crc, cephx)', () => {
  const cap = loadCapture('2-ping-v2-crc-cephx')
  const cut = (b: Uint8Array): Uint8Array => b.subarray(0, walkFrames(b, MESSAGE).at(-1)?.start)

  it('our client, fed the mon\'s bytes and the captured challenge, sends exactly the captured client bytes', () => {
    const key = parseKeyring(cap.keyring).get('client.admin')?.key
    assert.ok(key !== undefined)
    const challenge = printedChallenge(cap.text, 'client')
    const c = clientSide(0x529aecfb280e4ce2n, 2275882289, () => new CephxAuthClient({
      entity: ADMIN, key, preferredModes: [ConMode.CRC], random: scripted(u64le(challenge)), clock: { now: () => 1_700_000_000_000 }
    }))
    const { wrote, result } = replay<ClientResult>(c.handshake, c.source, cap.s2c)
    assert.equal(result.kind, 'ready')
    const want = cut(cap.c2s)
    assert.equal(want.length, 475)
    // Our AUTH_SIGNATURE is the HMAC of the mon's bytes; the mon's one verified ours (no throw).
    assert.equal(hex(wrote), hex(want))
  })
})
