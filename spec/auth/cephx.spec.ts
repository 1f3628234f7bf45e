// Our cephx client against our cephx server: full handshakes in both modes, extra tickets, ticket
// verification, global id reclaim, and every rejection as a typed error that leaks no secret.
import { describe, it, after } from 'node:test'
import assert from 'node:assert/strict'
import { inspect } from 'node:util'
import { Decoder, Encoder } from '../../lib/messages/denc.ts'
import {
  AuthErrorCode, AuthMethod, CephxAuthClient, CephxClient, CephxServer, ConMode, CryptoKey, DECRYPT_FAILED_MESSAGE,
  MonAuthServer, NoneAuthClient, applyTicketRenewal, buildTicketRenewal, needsRenewal, Service, ServiceSecrets, aesDecrypt, aesEncrypt, authSignature, clientProof, decodeAuthDone,
  decryptEnvelope, encodeAuthenticate, encryptEnvelope, openEnvelope, readDecrypted, verifyAuthSignature
} from '../../lib/auth/index.ts'
import type { AuthClient, AuthOutcome, AuthServer, CephxAuthResult } from '../../lib/auth/index.ts'
import { ADMIN, TestClock, assertNoLeak, expectAuthError, seenErrors, seededRandom, testKeyring } from './support.ts'

function setup (seed = 'cephx') {
  const random = seededRandom(seed)
  const clock = new TestClock()
  const keyring = testKeyring(random)
  const secrets = new ServiceSecrets({ random, clock })
  const cephx = new CephxServer({ keyring, secrets, random, clock })
  const server = new MonAuthServer({ cephx, allowNone: true })
  const adminKey = keyring.get(ADMIN)?.key
  assert.ok(adminKey !== undefined)
  return { random, clock, keyring, secrets, cephx, server, adminKey }
}

/** Drive a whole handshake through the provider interfaces, as a protocol would. */
function handshake (client: AuthClient, server: AuthServer): { client: AuthOutcome, server: AuthOutcome, done: Uint8Array } {
  const conv = server.accept()
  const req = client.buildRequest()
  let step = conv.handleRequest(req.method, req.preferredModes, req.payload)
  while (step.kind === 'more') step = conv.handleRequestMore(client.handleReplyMore(step.payload))
  const out = client.handleDone(step.outcome.globalId, step.outcome.conMode, step.payload)
  return { client: out, server: step.outcome, done: step.payload }
}

const secretsSeen: Uint8Array[] = []

after(() => {
  // No AuthError raised anywhere in this file carries a secret.
  assert.ok(seenErrors.length > 20 && secretsSeen.length > 5)
  for (const e of seenErrors) assertNoLeak(`${e.message}\n${inspect(e)}\n${JSON.stringify(e)}`, secretsSeen)
})

describe('cephx round trip', () => {
  for (const mode of [ConMode.SECURE, ConMode.CRC]) {
    it(`authenticates in ${mode === ConMode.SECURE ? 'secure' : 'crc'} mode and both signatures verify`, () => {
      const env = setup(`mode${mode}`)
      const client = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, preferredModes: [mode], random: env.random, clock: env.clock })
      const r = handshake(client, env.server)
      assert.equal(r.client.conMode, mode)
      assert.equal(r.client.globalId, r.server.globalId)
      assert.ok(r.client.sessionKey !== undefined && r.server.sessionKey !== undefined)
      assert.ok(r.client.sessionKey.equals(r.server.sessionKey))
      assert.deepEqual(r.client.connectionSecret, r.server.connectionSecret)
      assert.equal(r.client.connectionSecret.length, mode === ConMode.SECURE ? 64 : 0)
      assert.deepEqual(r.server.entity, ADMIN)
      assert.equal(r.server.caps?.get('mon'), 'allow *')
      const wire = [new Uint8Array([1, 2, 3]), r.done]
      const sig = authSignature(r.client.sessionKey, wire)
      assert.ok(verifyAuthSignature(r.server.sessionKey, wire, sig))
      assert.equal(verifyAuthSignature(r.server.sessionKey, [r.done], sig), false)
      secretsSeen.push(env.adminKey.secretBytes(), r.client.sessionKey.secretBytes())
    })
  }

  it('picks the first client-preferred mode the server allows', () => {
    const env = setup()
    const client = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, preferredModes: [ConMode.CRC, ConMode.SECURE], random: env.random })
    assert.equal(handshake(client, env.server).client.conMode, ConMode.CRC)
    const crcOnly = new MonAuthServer({ cephx: env.cephx, modes: [ConMode.CRC] })
    const wantsSecure = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, preferredModes: [ConMode.SECURE], random: env.random })
    expectAuthError(() => handshake(wantsSecure, crcOnly), AuthErrorCode.BAD_MODE)
  })

  it('hands out mon/osd/mgr tickets in extra, and the server verifies them', () => {
    const env = setup('extra')
    const client = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, want: 0x35, random: env.random, clock: env.clock })
    const r = handshake(client, env.server)
    const result = client.result
    assert.ok(result !== undefined)
    assert.deepEqual([...result.tickets.keys()].sort((a, b) => a - b), [Service.MON, Service.OSD, Service.MGR, Service.AUTH])
    for (const svc of [Service.MON, Service.OSD, Service.MGR, Service.AUTH]) {
      const t = result.tickets.get(svc)
      assert.ok(t !== undefined)
      const info = env.cephx.verifyTicket(svc, t.ticket, r.client.globalId)
      assert.ok(info.sessionKey.equals(t.sessionKey))
      assert.deepEqual(info.ticket.name, ADMIN)
      assert.equal(t.validity.sec, svc === Service.AUTH ? 259200 : 3600)
    }
    const osd = env.cephx.verifyTicket(Service.OSD, result.tickets.get(Service.OSD)?.ticket ?? { secretId: 0n, blob: new Uint8Array(0) })
    assert.equal(new Decoder(osd.ticket.caps.caps).string(), 'allow rwx')
    // Renewal: after 75% of the shortest validity (the 1 h service tickets).
    assert.equal(result.renewAfter, env.clock.now() + 2700_000)
  })

  it('reclaims a global id with the old ticket; the new ticket comes encrypted with the old session key', () => {
    const env = setup('reclaim')
    const first = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, random: env.random, clock: env.clock })
    const r1 = handshake(first, env.server)
    const previous = first.result
    assert.ok(previous !== undefined)
    env.clock.advance(600)
    const second = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, previous, random: env.random, clock: env.clock })
    const r2 = handshake(second, env.server)
    assert.equal(r2.client.globalId, r1.client.globalId)
    assert.equal(decodeAuthDone(r2.done).tickets[0].ticketEncrypted, true)
    assert.equal(r2.client.sessionKey?.equals(previous.sessionKey), false)
    env.cephx.verifyTicket(Service.AUTH, second.result?.tickets.get(Service.AUTH)?.ticket ?? { secretId: 0n, blob: new Uint8Array(0) }, r1.client.globalId)
  })
})

describe('cephx ticket renewal (GET_PRINCIPAL_SESSION_KEY)', () => {
  it('asks for fresh service tickets with the auth ticket', () => {
    const env = setup('renew')
    const client = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, want: 0x35, random: env.random, clock: env.clock })
    handshake(client, env.server)
    const r1 = client.result
    assert.ok(r1 !== undefined)
    env.clock.advance(2800)
    assert.ok(needsRenewal(r1, env.clock.now()))
    const req = buildTicketRenewal(r1, Service.OSD | Service.MGR, env.random)
    const reply = env.cephx.handleTicketRequest(req)
    assert.equal(reply.globalId, r1.globalId)
    const r2 = applyTicketRenewal(r1, reply.payload, env.clock)
    const osd1 = r1.tickets.get(Service.OSD)
    const osd2 = r2.tickets.get(Service.OSD)
    assert.ok(osd1 !== undefined && osd2 !== undefined)
    assert.equal(osd2.sessionKey.equals(osd1.sessionKey), false)
    assert.ok(env.cephx.verifyTicket(Service.OSD, osd2.ticket, r1.globalId).sessionKey.equals(osd2.sessionKey))
    // The mon ticket was not renewed, so the result still wants renewal soon.
    assert.equal(r2.tickets.get(Service.MON), r1.tickets.get(Service.MON))
    assert.ok(needsRenewal(r2, env.clock.now()))
    // A forged authorizer body, a foreign ticket and an expired auth ticket are refused.
    const forged = Uint8Array.from(req)
    forged[forged.length - 10] ^= 1
    expectAuthError(() => env.cephx.handleTicketRequest(forged), AuthErrorCode.DECRYPT_FAILED)
    env.clock.advance(259200)
    expectAuthError(() => env.cephx.handleTicketRequest(req), AuthErrorCode.EXPIRED_TICKET)
    expectAuthError(() => applyTicketRenewal(r1, new Uint8Array([0, 1, 0, 0, 0, 0]), env.clock), AuthErrorCode.BAD_PAYLOAD)
  })
})

describe('cephx rejections', () => {
  /** Run up to the AUTH_REQUEST_MORE; returns the session and the payload to tamper with. */
  function upToMore (env: ReturnType<typeof setup>, key: CryptoKey, entity = ADMIN, previous?: CephxAuthResult) {
    const client = new CephxClient({ entity, key, previous, random: env.random, clock: env.clock })
    const session = env.cephx.session()
    const challenge = session.handleRequest(client.start())
    return { client, session, more: client.handleReplyMore(challenge) }
  }

  it('bad proof', () => {
    const env = setup('badproof')
    const { session, more } = upToMore(env, env.adminKey)
    const forged = Uint8Array.from(more)
    forged[12] ^= 1 // inside the u64 key (offset 2 + 1 + 8 = 11 .. 18)
    expectAuthError(() => session.handleRequestMore(forged, 0), AuthErrorCode.BAD_PROOF)
    // One try per challenge.
    expectAuthError(() => session.handleRequestMore(more, 0), AuthErrorCode.BAD_STATE)
  })

  it('wrong key: server rejects the proof, client cannot open a reply', () => {
    const env = setup('wrongkey')
    const wrong = CryptoKey.generate(env.random, { sec: 1, nsec: 0 })
    secretsSeen.push(wrong.secretBytes(), env.adminKey.secretBytes())
    const { session, more } = upToMore(env, wrong)
    expectAuthError(() => session.handleRequestMore(more, 0), AuthErrorCode.BAD_PROOF)
    // A client holding the wrong key gets a reply sealed for the right one.
    const good = upToMore(env, env.adminKey)
    const done = good.session.handleRequestMore(good.more, 0)
    const confused = new CephxClient({ entity: ADMIN, key: wrong, random: env.random })
    confused.start()
    confused.handleReplyMore(new Encoder(9).u8(1).u64(5n).finish())
    expectAuthError(() => confused.handleDone(done.globalId, ConMode.CRC, done.payload), AuthErrorCode.DECRYPT_FAILED)
  })

  it('unknown entity and an entity without mon caps', () => {
    const env = setup('unknown')
    const stranger = CryptoKey.generate(env.random, { sec: 1, nsec: 0 })
    const a = upToMore(env, stranger, { type: 8, id: 'stranger' })
    expectAuthError(() => a.session.handleRequestMore(a.more, 0), AuthErrorCode.UNKNOWN_ENTITY)
    const noCapsKey = env.keyring.get('client.nocaps')?.key
    assert.ok(noCapsKey !== undefined)
    const b = upToMore(env, noCapsKey, { type: 8, id: 'nocaps' })
    expectAuthError(() => b.session.handleRequestMore(b.more, 0), AuthErrorCode.ACCESS_DENIED)
  })

  it('reclaim without a ticket, and a superfluous ticket for a new id', () => {
    const env = setup('reclaimbad')
    const first = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, random: env.random, clock: env.clock })
    handshake(first, env.server)
    const prev = first.result
    assert.ok(prev !== undefined)
    // Reclaim, but the request carries no ticket.
    const session = env.cephx.session()
    const client = new CephxClient({ entity: ADMIN, key: env.adminKey, previous: prev, random: env.random })
    const challenge = session.handleRequest(client.start())
    const proper = new Decoder(client.handleReplyMore(challenge))
    proper.u16()
    const body = { structV: proper.u8(), clientChallenge: proper.u64(), key: proper.u64() }
    const noTicket = encodeAuthenticate({ ...body, oldTicket: { secretId: 0n, blob: new Uint8Array(0) }, otherKeys: 0x20 })
    expectAuthError(() => session.handleRequestMore(noTicket, 0), AuthErrorCode.BAD_TICKET)
    // A new id (global_id 0) presenting a ticket.
    const s2 = env.cephx.session()
    const c2 = new CephxClient({ entity: ADMIN, key: env.adminKey, random: env.random })
    const ch2 = new Decoder(s2.handleRequest(c2.start()))
    ch2.u8()
    const sc = ch2.u64()
    const withTicket = encodeAuthenticate({ structV: 3, clientChallenge: 1n, key: clientProof(env.adminKey, sc, 1n), oldTicket: prev.tickets.get(Service.AUTH)?.ticket ?? { secretId: 0n, blob: new Uint8Array(0) }, otherKeys: 0x20 })
    expectAuthError(() => s2.handleRequestMore(withTicket, 0), AuthErrorCode.BAD_TICKET)
  })

  it('forged, unknown-secret, expired, rotated-out and misattributed tickets', () => {
    const env = setup('tickets')
    const client = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, want: 0x35, random: env.random, clock: env.clock })
    const r = handshake(client, env.server)
    const osd = client.result?.tickets.get(Service.OSD)?.ticket
    assert.ok(osd !== undefined)
    for (const at of [0, 17, osd.blob.length - 1]) {
      const blob = Uint8Array.from(osd.blob)
      blob[at] ^= 0x40
      expectAuthError(() => env.cephx.verifyTicket(Service.OSD, { secretId: osd.secretId, blob }), AuthErrorCode.DECRYPT_FAILED)
    }
    expectAuthError(() => env.cephx.verifyTicket(Service.OSD, { secretId: osd.secretId + 5n, blob: osd.blob }), AuthErrorCode.BAD_TICKET)
    expectAuthError(() => env.cephx.verifyTicket(Service.OSD, { secretId: osd.secretId, blob: new Uint8Array(0) }), AuthErrorCode.BAD_TICKET)
    expectAuthError(() => env.cephx.verifyTicket(Service.OSD, osd, r.client.globalId + 1n), AuthErrorCode.BAD_TICKET)
    // A ticket for one service does not open as another's.
    expectAuthError(() => env.cephx.verifyTicket(Service.MGR, osd), AuthErrorCode.DECRYPT_FAILED)
    env.clock.advance(3601)
    expectAuthError(() => env.cephx.verifyTicket(Service.OSD, osd), AuthErrorCode.EXPIRED_TICKET)
    // Three rotations later the secret is gone.
    for (let i = 0; i < 3; i++) env.secrets.rotate(Service.OSD)
    expectAuthError(() => env.cephx.verifyTicket(Service.OSD, osd), AuthErrorCode.BAD_TICKET)
  })

  it('methods, modes and order', () => {
    const env = setup('methods')
    const cephxOnly = new MonAuthServer({ cephx: env.cephx })
    expectAuthError(() => handshake(new NoneAuthClient(ADMIN), cephxOnly), AuthErrorCode.BAD_METHOD)
    assert.deepEqual(env.server.allowedMethods, [AuthMethod.CEPHX, AuthMethod.NONE])
    assert.deepEqual(env.server.allowedModes(AuthMethod.NONE), [ConMode.CRC])
    assert.deepEqual(env.server.allowedModes(AuthMethod.CEPHX), [ConMode.SECURE, ConMode.CRC])
    // auth none: one round, no key, crc, zero signature.
    const none = handshake(new NoneAuthClient(ADMIN), env.server)
    assert.equal(none.client.conMode, ConMode.CRC)
    assert.equal(none.client.sessionKey, undefined)
    assert.deepEqual(authSignature(none.client.sessionKey, [none.done]), new Uint8Array(32))
    // A client refuses a mode it did not offer.
    const client = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, preferredModes: [ConMode.CRC], random: env.random })
    const conv = env.server.accept()
    const req = client.buildRequest()
    const step = conv.handleRequest(req.method, [ConMode.SECURE], req.payload)
    assert.equal(step.kind, 'more')
    if (step.kind !== 'more') return
    const done = conv.handleRequestMore(client.handleReplyMore(step.payload))
    assert.equal(done.kind, 'done')
    if (done.kind !== 'done') return
    expectAuthError(() => client.handleDone(done.outcome.globalId, ConMode.SECURE, done.payload), AuthErrorCode.BAD_MODE)
    // Out of order.
    const fresh = env.cephx.session()
    expectAuthError(() => fresh.handleRequestMore(new Uint8Array(0), 0), AuthErrorCode.BAD_STATE)
    const c = new CephxClient({ entity: ADMIN, key: env.adminKey })
    expectAuthError(() => c.handleReplyMore(new Uint8Array(9)), AuthErrorCode.BAD_STATE)
    expectAuthError(() => c.handleDone(1n, 1, new Uint8Array(0)), AuthErrorCode.BAD_STATE)
  })
})

describe('decryption failures are indistinguishable', () => {
  it('gives one code and one message for length, padding, magic, framing and content errors', () => {
    const random = seededRandom('oracle')
    const key = CryptoKey.generate(random, { sec: 0, nsec: 0 })
    const other = CryptoKey.generate(random, { sec: 0, nsec: 0 })
    secretsSeen.push(key.secretBytes(), other.secretBytes())
    const good = encryptEnvelope(key, new Encoder(8).u64(42n).finish())
    const badPadding = Uint8Array.from(good)
    badPadding[badPadding.length - 1] ^= 0xff
    const badMagic = aesEncrypt(key, new Uint8Array(20).fill(0x11))
    const cases: Array<() => unknown> = [
      () => aesDecrypt(key, new Uint8Array(0)),
      () => aesDecrypt(key, new Uint8Array(15)),
      () => decryptEnvelope(key, badPadding),
      () => decryptEnvelope(other, good),
      () => decryptEnvelope(key, badMagic),
      () => decryptEnvelope(key, aesEncrypt(key, new Uint8Array(3))),
      () => readDecrypted(new Decoder(new Uint8Array([200, 0, 0, 0, 1])), key, (d) => d.u8()),
      () => openEnvelope(key, good, (d) => d.bytes(100))
    ]
    const errors = cases.map((fn) => expectAuthError(fn, AuthErrorCode.DECRYPT_FAILED))
    for (const e of errors) assert.equal(e.message, DECRYPT_FAILED_MESSAGE)
    assert.equal(openEnvelope(key, good, (d) => d.u64()), 42n)
  })
})

describe('secrets never print', () => {
  it('CryptoKey redacts in inspect, JSON and String', () => {
    const random = seededRandom('print')
    const key = CryptoKey.generate(random, { sec: 5, nsec: 6 })
    const secret = key.secretBytes()
    for (const text of [inspect(key), inspect({ nested: { key } }, { depth: 5 }), JSON.stringify(key), String(key), `${key}`, inspect(key, { showHidden: true })]) {
      assertNoLeak(text, [secret, key.toBytes()])
      assert.match(text, /redacted/)
    }
    const env = setup('print')
    const ringText = inspect(env.keyring, { depth: 10 }) + JSON.stringify(env.keyring) + String(env.keyring)
    const secretsText = inspect(env.secrets, { depth: 10 }) + JSON.stringify(env.secrets)
    env.secrets.current(Service.AUTH)
    const all = [...env.keyring.names()].map((n) => env.keyring.get(n)?.key.secretBytes() ?? new Uint8Array(0))
    assertNoLeak(ringText + secretsText + inspect(env.secrets), [...all, env.secrets.current(Service.AUTH).key.secretBytes()])
    // A handshake result printed whole shows redacted keys.
    const client = new CephxAuthClient({ entity: ADMIN, key: env.adminKey, want: 0x35, random: env.random, clock: env.clock })
    handshake(client, env.server)
    const r = client.result
    assert.ok(r !== undefined)
    const keys = [r.sessionKey, ...[...r.tickets.values()].map((t) => t.sessionKey)].map((k) => k.secretBytes())
    assertNoLeak(inspect(r, { depth: 10 }) + JSON.stringify({ ...r, tickets: [...r.tickets.values()] }, (_k, v: unknown) => typeof v === 'bigint' ? String(v) : v), keys)
  })
})
