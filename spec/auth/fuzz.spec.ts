// Random and mutated bytes into every auth decoder and handler: the only failure allowed is an
// AuthError (no other exception, no hang).
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import fc from 'fast-check'
import { inspect } from 'node:util'
import { Decoder } from '../../lib/messages/denc.ts'
import {
  CephxClient, CephxServer, applyTicketRenewal, buildTicketRenewal, CryptoKey, ServiceSecrets, decodeAuthDone, decodeAuthenticateBody, decodeMonAuthRequest,
  decodePlain, decodeServerChallenge, decodeServiceTicketReply, decryptEnvelope, isAuthError, openTicket, parseKeyring
} from '../../lib/auth/index.ts'
import { Tag, frame, loadCapture, walkFrames } from './capture.ts'
import { ADMIN, TestClock, seededRandom } from './support.ts'

const RUNS = 300

/** Run fn; succeed or throw AuthError, nothing else. */
function onlyAuthErrors (fn: () => unknown): void {
  try {
    fn()
  } catch (e) {
    assert.ok(isAuthError(e), `non-AuthError escaped: ${inspect(e)}`)
  }
}

const bytes = fc.uint8Array({ maxLength: 600 })

/** A valid payload with some bytes flipped, cut short or extended. */
function mutated (base: Uint8Array): fc.Arbitrary<Uint8Array> {
  return fc.oneof(
    fc.array(fc.tuple(fc.nat({ max: Math.max(0, base.length - 1) }), fc.integer({ min: 1, max: 255 })), { minLength: 1, maxLength: 6 })
      .map((flips) => {
        const out = Uint8Array.from(base)
        for (const [at, x] of flips) if (at < out.length) out[at] ^= x
        return out
      }),
    fc.nat({ max: base.length }).map((n) => base.subarray(0, n)),
    fc.uint8Array({ minLength: 1, maxLength: 40 }).map((tail) => Uint8Array.from([...base, ...tail]))
  )
}

const key = CryptoKey.generate(seededRandom('fuzz-key'), { sec: 0, nsec: 0 })

// Real payloads to mutate: the scenario 5 MonClient connection (with extra tickets).
const cap = loadCapture('5-watch-v2-crc-cephx-keepalive', 1)
const s2c = walkFrames(cap.s2c, Tag.AUTH_DONE)
const c2s = walkFrames(cap.c2s, Tag.AUTH_REQUEST_MORE)
const realDone = (() => { const d = new Decoder(frame(s2c, Tag.AUTH_DONE).seg0); d.u64(); d.u32(); return d.bufferlist() })()
const realMore = new Decoder(frame(c2s, Tag.AUTH_REQUEST_MORE).seg0).bufferlist()
const realChallenge = new Decoder(frame(s2c, Tag.AUTH_REPLY_MORE).seg0).bufferlist()
const realRequest = (() => { const d = new Decoder(frame(c2s, Tag.AUTH_REQUEST).seg0); d.u32(); d.array((x) => x.u32()); return d.bufferlist() })()
const realKey = parseKeyring(cap.keyring).get('client.admin')?.key ?? key

describe('auth decoders under random input', () => {
  const decoders: Array<[string, (b: Uint8Array) => unknown]> = [
    ['mon auth request', decodeMonAuthRequest],
    ['server challenge', decodeServerChallenge],
    ['auth done', decodeAuthDone],
    ['authenticate', (b) => decodePlain(b, 'authenticate', decodeAuthenticateBody)],
    ['ticket reply', (b) => decodePlain(b, 'tickets', decodeServiceTicketReply)],
    ['crypto key', (b) => CryptoKey.fromBytes(b)],
    ['envelope', (b) => decryptEnvelope(key, b)],
    ['ticket', (b) => openTicket({ secretId: 1n, blob: b }, key)]
  ]
  for (const [name, decode] of decoders) {
    it(name, () => {
      fc.assert(fc.property(bytes, (b) => onlyAuthErrors(() => decode(b))), { numRuns: RUNS })
    })
  }

  it('keyring text', () => {
    const line = fc.oneof(fc.string({ maxLength: 60 }), fc.constantFrom('[client.a]', 'key = AQAi7BRrGKwQGxAA+fUUNisaLAcTg3YwCA2hhQ==', 'caps mon = "allow *"', '"', '[', '#', ';'))
    fc.assert(fc.property(fc.array(line, { maxLength: 12 }), (lines) => onlyAuthErrors(() => parseKeyring(lines.join('\n')))), { numRuns: RUNS })
    fc.assert(fc.property(fc.string({ maxLength: 60 }), (s) => onlyAuthErrors(() => CryptoKey.fromBase64(s))), { numRuns: RUNS })
  })
})

describe('auth handlers under mutated real payloads', () => {
  it('server: mutated ticket requests', () => {
    const random = seededRandom('renew-fuzz')
    const clock = new TestClock()
    const keyring = parseKeyring(cap.keyring)
    const server = new CephxServer({ keyring, secrets: new ServiceSecrets({ random, clock }), random, clock })
    const client = new CephxClient({ entity: ADMIN, key: realKey, want: 0x35, random, clock })
    const s = server.session()
    const more = client.handleReplyMore(s.handleRequest(client.start()))
    const out = s.handleRequestMore(more, 0)
    const result = client.handleDone(out.globalId, 1, out.payload)
    const req = buildTicketRenewal(result, 0x15, random)
    const reply = server.handleTicketRequest(req).payload
    fc.assert(fc.property(fc.oneof(mutated(req), bytes), mutated(reply), (r, p) => {
      onlyAuthErrors(() => server.handleTicketRequest(r))
      onlyAuthErrors(() => applyTicketRenewal(result, p, clock))
    }), { numRuns: RUNS })
  })

  it('client: mutated challenge and AUTH_DONE', () => {
    fc.assert(fc.property(mutated(realChallenge), mutated(realDone), (ch, done) => {
      const c = new CephxClient({ entity: ADMIN, key: realKey, want: 0x35, random: seededRandom('c') })
      c.start()
      onlyAuthErrors(() => {
        c.handleReplyMore(ch)
        c.handleDone(4118n, 1, done)
      })
    }), { numRuns: RUNS })
  })

  it('server: random and mutated AUTH_REQUEST / AUTH_REQUEST_MORE', () => {
    const random = seededRandom('server')
    const clock = new TestClock()
    const keyring = parseKeyring(cap.keyring)
    const server = new CephxServer({ keyring, secrets: new ServiceSecrets({ random, clock }), random, clock })
    fc.assert(fc.property(fc.oneof(mutated(realRequest), bytes), fc.oneof(mutated(realMore), bytes), fc.constantFrom(0, 64), (req, more, secretLen) => {
      const s = server.session()
      onlyAuthErrors(() => {
        s.handleRequest(req)
        s.handleRequestMore(more, secretLen)
      })
    }), { numRuns: RUNS })
  })
})
