// cephx against real Ceph 16.2.15 bytes: every value here is recomputed from the captured streams
// and the saved keyring and compared with the wire or with what the independent decoder printed.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { Decoder, Encoder } from '../../lib/messages/denc.ts'
import {
  AuthMethod, CephxAuthClient, CephxClient, CephxServer, ConMode, NoneAuthClient, Service, ServiceSecrets,
  authSignature, clientProof, decodeAuthDone, decodeAuthenticateBody, decodeMonAuthRequest, decodeRequestType,
  decodeServerChallenge, decodeServiceTicketReply, decryptEnvelope, encodeAuthenticate, encodeMonAuthRequest,
  encryptEnvelope, parseKeyring, verifyAuthSignature
} from '../../lib/auth/index.ts'
import type { RandomSource } from '../../lib/auth/index.ts'
import {
  Tag, frame, hex, loadCapture, printedChallenge, printedConnectionSecret, printedSessionKeys, printedSignature,
  printedSignedLength, printedValidity, walkFrames
} from './capture.ts'

interface Case {
  name: string
  scenario: string
  conn: number
  secure: boolean
  otherKeys: number
}

const CASES: Case[] = [
  { name: '2 crc ping', scenario: '2-ping-v2-crc-cephx', conn: 0, secure: false, otherKeys: 0x20 },
  { name: '4 secure ping', scenario: '4-ping-v2-secure-cephx', conn: 0, secure: true, otherKeys: 0x20 },
  { name: '5 crc watch, bootstrap', scenario: '5-watch-v2-crc-cephx-keepalive', conn: 0, secure: false, otherKeys: 0x20 },
  { name: '5 crc watch, MonClient (mon/osd/mgr tickets)', scenario: '5-watch-v2-crc-cephx-keepalive', conn: 1, secure: false, otherKeys: 0x35 }
]

/** Random bytes served from a fixed list (the capture's challenges), then a deterministic filler. */
function scripted (...chunks: Uint8Array[]): RandomSource {
  const queue = [...chunks]
  let fill = 1
  return {
    bytes: (n) => {
      const c = queue.shift()
      if (c === undefined) return new Uint8Array(n).fill(fill++)
      if (c.length !== n) throw new Error(`unexpected random request of ${n} bytes`)
      return c
    }
  }
}

function u64le (v: bigint): Uint8Array {
  return new Encoder(8).u64(v).finish()
}

function load (c: Case) {
  const cap = loadCapture(c.scenario, c.conn)
  const ring = parseKeyring(cap.keyring)
  const entry = ring.get('client.admin')
  assert.ok(entry !== undefined)
  // Secure captures are encrypted from AUTH_SIGNATURE on: walk only the plain frames before it.
  const c2s = walkFrames(cap.c2s, c.secure ? Tag.AUTH_REQUEST_MORE : Tag.AUTH_SIGNATURE)
  const s2c = walkFrames(cap.s2c, c.secure ? Tag.AUTH_DONE : Tag.AUTH_SIGNATURE)
  const reqDec = new Decoder(frame(c2s, Tag.AUTH_REQUEST).seg0)
  const method = reqDec.u32()
  const modes = reqDec.array((d) => d.u32())
  const authPayload = reqDec.bufferlist()
  const challengePayload = new Decoder(frame(s2c, Tag.AUTH_REPLY_MORE).seg0).bufferlist()
  const morePayload = new Decoder(frame(c2s, Tag.AUTH_REQUEST_MORE).seg0).bufferlist()
  const doneDec = new Decoder(frame(s2c, Tag.AUTH_DONE).seg0)
  const globalId = doneDec.u64()
  const conMode = doneDec.u32()
  const donePayload = doneDec.bufferlist()
  return { cap, ring, key: entry.key, c2s, s2c, method, modes, authPayload, challengePayload, morePayload, globalId, conMode, donePayload }
}

for (const c of CASES) {
  describe(`golden cephx: scenario ${c.name}`, () => {
    const g = load(c)
    const serverChallenge = printedChallenge(g.cap.text, 'server')
    const clientChallenge = printedChallenge(g.cap.text, 'client')

    it('parses the keyring with the caps ceph-authtool wrote', () => {
      assert.deepEqual(g.ring.names(), ['mon.', 'client.admin'])
      assert.equal(g.key.toBase64(), 'AQAi7BRrGKwQGxAA+fUUNisaLAcTg3YwCA2hhQ==')
      assert.equal(g.ring.get('client.admin')?.caps.get('mon'), 'allow *')
    })

    it('decodes and re-encodes the mon auth request', () => {
      assert.equal(g.method, AuthMethod.CEPHX)
      assert.deepEqual(g.modes, [c.secure ? ConMode.SECURE : ConMode.CRC])
      const req = decodeMonAuthRequest(g.authPayload)
      assert.deepEqual(req, { authMode: 10, entity: { type: 8, id: 'admin' }, globalId: 0n })
      assert.deepEqual(encodeMonAuthRequest(req), g.authPayload)
    })

    it('recomputes the client proof and re-encodes CephXAuthenticate byte for byte', () => {
      assert.equal(decodeServerChallenge(g.challengePayload), serverChallenge)
      const dec = new Decoder(g.morePayload)
      assert.equal(decodeRequestType(dec), 0x0100)
      const req = decodeAuthenticateBody(dec)
      assert.equal(req.structV, 3)
      assert.equal(req.clientChallenge, clientChallenge)
      assert.equal(req.otherKeys, c.otherKeys)
      assert.equal(clientProof(g.key, serverChallenge, clientChallenge), req.key)
      assert.deepEqual(encodeAuthenticate(req), g.morePayload)
    })

    it('our client, fed the captured challenge, sends the captured bytes and opens AUTH_DONE', () => {
      const client = new CephxClient({
        entity: { type: 8, id: 'admin' },
        key: g.key,
        want: c.otherKeys,
        random: scripted(u64le(clientChallenge)),
        clock: { now: () => 1_000_000 }
      })
      assert.deepEqual(client.start(), g.authPayload)
      assert.deepEqual(client.handleReplyMore(g.challengePayload), g.morePayload)
      const r = client.handleDone(g.globalId, g.conMode, g.donePayload)
      const printed = printedSessionKeys(g.cap.text)
      assert.equal(hex(r.sessionKey.secretBytes()), printed.get(Service.AUTH))
      assert.equal(hex(r.connectionSecret), printedConnectionSecret(g.cap.text))
      assert.equal(r.connectionSecret.length, c.secure ? 64 : 0)
      assert.deepEqual([...r.tickets.keys()].sort((a, b) => a - b), [...printed.keys()].sort((a, b) => a - b))
      for (const [svc, t] of r.tickets) {
        assert.equal(hex(t.sessionKey.secretBytes()), printed.get(svc))
        assert.equal(t.validity.sec, printedValidity(g.cap.text, svc))
        assert.equal(t.ticket.blob.length > 0, true)
        // Renewal at 75% of the validity, as CephXTicketHandler computes it.
        assert.equal(t.expiresAt - t.renewAfter, (t.validity.sec / 4) * 1000)
      }
      assert.equal(r.tickets.get(Service.AUTH)?.validity.sec, 259200)
      assert.equal(r.renewAfter, Math.min(...[...r.tickets.values()].map((t) => t.renewAfter)))
    })

    it('the AuthClient wrapper accepts the captured mode', () => {
      const client = new CephxAuthClient({
        entity: { type: 8, id: 'admin' },
        key: g.key,
        want: c.otherKeys,
        preferredModes: g.modes,
        random: scripted(u64le(clientChallenge))
      })
      const req = client.buildRequest()
      assert.deepEqual(req, { method: AuthMethod.CEPHX, preferredModes: g.modes, payload: g.authPayload })
      client.handleReplyMore(g.challengePayload)
      const out = client.handleDone(g.globalId, g.conMode, g.donePayload)
      assert.equal(out.conMode, g.conMode)
      assert.equal(out.globalId, g.globalId)
    })

    it('recomputes both AUTH_SIGNATUREs from the raw stream bytes', () => {
      const r = new CephxClient({ entity: { type: 8, id: 'admin' }, key: g.key, want: c.otherKeys, random: scripted(u64le(clientChallenge)) })
      r.start()
      r.handleReplyMore(g.challengePayload)
      const sessionKey = r.handleDone(g.globalId, g.conMode, g.donePayload).sessionKey
      // The client signs what it received (S→C up to the mon's AUTH_SIGNATURE), and vice versa.
      const clientSigned = g.cap.s2c.subarray(0, frame(g.s2c, Tag.AUTH_DONE).end)
      const serverSigned = g.cap.c2s.subarray(0, frame(g.c2s, Tag.AUTH_REQUEST_MORE).end)
      assert.equal(clientSigned.length, printedSignedLength(g.cap.text, 'C->S'))
      assert.equal(serverSigned.length, printedSignedLength(g.cap.text, 'S->C'))
      const clientSig = authSignature(sessionKey, [clientSigned])
      const serverSig = authSignature(sessionKey, [serverSigned])
      assert.equal(hex(clientSig), printedSignature(g.cap.text, 'C->S'))
      assert.equal(hex(serverSig), printedSignature(g.cap.text, 'S->C'))
      if (!c.secure) {
        // crc mode: the signature frames are plain, compare with the wire itself.
        assert.deepEqual(frame(g.c2s, Tag.AUTH_SIGNATURE).seg0, clientSig)
        assert.deepEqual(frame(g.s2c, Tag.AUTH_SIGNATURE).seg0, serverSig)
      }
      // Chunked input gives the same HMAC, and verification is exact.
      assert.ok(verifyAuthSignature(sessionKey, [clientSigned.subarray(0, 100), clientSigned.subarray(100)], clientSig))
      assert.equal(verifyAuthSignature(sessionKey, [serverSigned], clientSig), false)
    })

    it('re-encrypting every decrypted part gives the captured ciphertext (fixed IV)', () => {
      const raw = decodeAuthDone(g.donePayload)
      const sealed = raw.tickets[0].sealedSession
      const plain = decryptEnvelope(g.key, sealed)
      assert.deepEqual(encryptEnvelope(g.key, plain), sealed)
      const sessionKeyHex = printedSessionKeys(g.cap.text).get(Service.AUTH)
      const r = new CephxClient({ entity: { type: 8, id: 'admin' }, key: g.key, want: c.otherKeys, random: scripted(u64le(clientChallenge)) })
      r.start()
      r.handleReplyMore(g.challengePayload)
      const sessionKey = r.handleDone(g.globalId, g.conMode, g.donePayload).sessionKey
      assert.equal(hex(sessionKey.secretBytes()), sessionKeyHex)
      assert.ok(raw.connectionSecret !== undefined)
      const cbl = new Decoder(raw.connectionSecret).bufferlist()
      assert.equal(cbl.length, c.secure ? 80 : 16)
      assert.deepEqual(encryptEnvelope(sessionKey, decryptEnvelope(sessionKey, cbl)), cbl)
      const extra = raw.extra ?? new Uint8Array(0)
      assert.equal(extra.length === 0, c.otherKeys === 0x20)
      if (extra.length > 0) {
        for (const e of decodeServiceTicketReply(new Decoder(extra))) {
          assert.deepEqual(encryptEnvelope(sessionKey, decryptEnvelope(sessionKey, e.sealedSession)), e.sealedSession)
        }
      }
    })

    it('our server, fed the captured challenge, accepts the real client proof', () => {
      const secrets = new ServiceSecrets({ clock: { now: () => 0 } })
      const server = new CephxServer({
        keyring: g.ring,
        secrets,
        random: scripted(u64le(serverChallenge)),
        clock: { now: () => 0 },
        allocateGlobalId: () => g.globalId
      })
      const s = server.session()
      assert.deepEqual(s.handleRequest(g.authPayload), g.challengePayload)
      const out = s.handleRequestMore(g.morePayload, c.secure ? 64 : 0)
      assert.equal(out.globalId, g.globalId)
      assert.deepEqual(out.entity, { type: 8, id: 'admin' })
      // Our AUTH_DONE has the captured shape: same sizes for the same request.
      const ours = decodeAuthDone(out.payload)
      const theirs = decodeAuthDone(g.donePayload)
      assert.equal(out.payload.length, g.donePayload.length)
      assert.deepEqual(ours.tickets.map((t) => [t.serviceId, t.sealedSession.length, t.ticket.length]), theirs.tickets.map((t) => [t.serviceId, t.sealedSession.length, t.ticket.length]))
      assert.equal(ours.extra?.length, theirs.extra?.length)
    })
  })
}

describe('golden auth none: scenario 1', () => {
  const cap = loadCapture('1-ping-v2-crc-authnone')
  const c2s = walkFrames(cap.c2s, Tag.AUTH_SIGNATURE)
  const s2c = walkFrames(cap.s2c, Tag.AUTH_SIGNATURE)

  it('builds the captured AUTH_REQUEST payload and zero signatures', () => {
    const dec = new Decoder(frame(c2s, Tag.AUTH_REQUEST).seg0)
    assert.equal(dec.u32(), AuthMethod.NONE)
    assert.deepEqual(dec.array((d) => d.u32()), [ConMode.CRC])
    const payload = dec.bufferlist()
    const req = new NoneAuthClient({ type: 8, id: 'admin' }).buildRequest()
    assert.deepEqual(req.payload, payload)
    assert.deepEqual(frame(c2s, Tag.AUTH_SIGNATURE).seg0, authSignature(undefined, [cap.s2c]))
    assert.deepEqual(frame(s2c, Tag.AUTH_SIGNATURE).seg0, new Uint8Array(32))
  })

  it('accepts the captured AUTH_DONE (empty payload, crc)', () => {
    const dec = new Decoder(frame(s2c, Tag.AUTH_DONE).seg0)
    const globalId = dec.u64()
    const conMode = dec.u32()
    const payload = dec.bufferlist()
    assert.equal(payload.length, 0)
    const out = new NoneAuthClient({ type: 8, id: 'admin' }).handleDone(globalId, conMode, payload)
    assert.deepEqual(out, { globalId: 4098n, conMode: ConMode.CRC, connectionSecret: new Uint8Array(0) })
  })
})
