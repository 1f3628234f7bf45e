// Keyring parsing as Ceph's ConfFile + KeyRing::decode_plaintext do it, and the CryptoKey codec.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { AuthErrorCode, CryptoKey, parseKeyring } from '../../lib/auth/index.ts'
import { FIXTURES } from './capture.ts'
import { assertNoLeak, expectAuthError } from './support.ts'

const ADMIN_KEY = 'AQAi7BRrGKwQGxAA+fUUNisaLAcTg3YwCA2hhQ=='

describe('CryptoKey', () => {
  it('decodes the base64 keyring form: u16 type, utime created, u16 len, secret', () => {
    const k = CryptoKey.fromBase64(ADMIN_KEY)
    assert.equal(k.type, 1)
    const raw = Buffer.from(ADMIN_KEY, 'base64')
    assert.equal(raw.length, 28)
    assert.deepEqual(k.created, { sec: raw.readUInt32LE(2), nsec: raw.readUInt32LE(6) })
    assert.deepEqual(k.secretBytes(), new Uint8Array(raw.subarray(12)))
    assert.equal(k.toBase64(), ADMIN_KEY)
    assert.ok(k.equals(CryptoKey.fromBytes(k.toBytes())))
    assert.equal(k.equals(new CryptoKey(new Uint8Array(16), k.created)), false)
  })

  it('rejects malformed keys with BAD_KEY and no key text in the message', () => {
    const raw = Buffer.from(ADMIN_KEY, 'base64')
    const withType = (t: number) => { const b = Buffer.from(raw); b.writeUInt16LE(t, 0); return b.toString('base64') }
    const withLen = (n: number) => { const b = Buffer.from(raw); b.writeUInt16LE(n, 10); return b.toString('base64') }
    for (const text of ['', 'not base64!', ADMIN_KEY.slice(0, -4), withType(2), withType(0), withLen(15), withLen(17), Buffer.concat([raw, Buffer.from([0])]).toString('base64')]) {
      const e = expectAuthError(() => CryptoKey.fromBase64(text), AuthErrorCode.BAD_KEY)
      assertNoLeak(e.message, [new Uint8Array(raw.subarray(12))])
      if (text.length > 8) assert.ok(!e.message.includes(text.slice(0, 8)))
    }
    expectAuthError(() => new CryptoKey(new Uint8Array(8)), AuthErrorCode.BAD_KEY)
  })
})

describe('keyring parsing', () => {
  it('reads the keyring ceph-authtool wrote for the captures', () => {
    const ring = parseKeyring(readFileSync(`${FIXTURES}2-ping-v2-crc-cephx/keyring`, 'utf8'))
    assert.deepEqual(ring.names(), ['mon.', 'client.admin'])
    assert.deepEqual(ring.get('mon.')?.entity, { type: 1, id: '' })
    const admin = ring.get({ type: 8, id: 'admin' })
    assert.equal(admin?.key.toBase64(), ADMIN_KEY)
    assert.deepEqual([...(admin?.caps ?? [])], [['mds', 'allow *'], ['mgr', 'allow *'], ['mon', 'allow *'], ['osd', 'allow *']])
  })

  it('handles comments, whitespace, CRLF, quoting, underscores and [global]', () => {
    const text = [
      '# a comment',
      '; another',
      '[global]',
      '  fsid = 1234   ',
      '',
      '  [ client.foo ]  ',
      `key=${ADMIN_KEY}   # trailing comment`,
      'caps_mon = "allow r; allow command \\"x\\""',
      'caps   osd=allow rwx pool=a',
      'auid = 0',
      '[client.foo]',
      'caps mgr = "allow *"  ; comment after quotes'
    ].join('\r\n')
    const ring = parseKeyring(text)
    assert.deepEqual(ring.names(), ['client.foo'])
    const e = ring.get('client.foo')
    assert.equal(e?.key.toBase64(), ADMIN_KEY)
    assert.equal(e?.caps.get('mon'), 'allow r; allow command "x"')
    assert.equal(e?.caps.get('osd'), 'allow rwx pool=a')
    assert.equal(e?.caps.get('mgr'), 'allow *')
  })

  it('round-trips through format()', () => {
    const ring = parseKeyring(readFileSync(`${FIXTURES}4-ping-v2-secure-cephx/keyring`, 'utf8'))
    const again = parseKeyring(ring.format())
    assert.deepEqual(again.names(), ring.names())
    for (const n of ring.names()) {
      assert.ok(again.get(n)?.key.equals(ring.get(n)?.key ?? CryptoKey.fromBase64(ADMIN_KEY)))
      assert.deepEqual([...(again.get(n)?.caps ?? [])], [...(ring.get(n)?.caps ?? [])])
    }
  })

  it('reports errors by line number only, never echoing the text', () => {
    const secret = new Uint8Array(Buffer.from(ADMIN_KEY, 'base64').subarray(12))
    const bad: Array<[string, number]> = [
      [`key = ${ADMIN_KEY}`, 1],
      ['[client.x', 1],
      ['[nosuchtype.x]\nkey = x', 1],
      [`[client.x]\n${ADMIN_KEY}`, 2],
      [`[client.x]\n${ADMIN_KEY.slice(0, -2)}`, 2],
      [`[client.x]\nkey = ${ADMIN_KEY.slice(1)}`, 2],
      [`[client.x]\nkey = "${ADMIN_KEY}`, 2],
      ['[client.x]\ncaps mon = "allow *"', 1],
      [`[client.x]\nkey = ${ADMIN_KEY}\nsecret_thing = 1`, 3]
    ]
    for (const [text, line] of bad) {
      const e = expectAuthError(() => parseKeyring(text), AuthErrorCode.BAD_KEYRING)
      assert.match(e.message, new RegExp(`line ${line}:`))
      assertNoLeak(e.message, [secret])
      assert.ok(!e.message.includes(ADMIN_KEY.slice(0, 12)))
    }
  })
})
