// Mon addresses in Ceph's forms (lib/config/mon-host.ts): parsing is pure, so every form is a row.
import assert from 'node:assert/strict'
import { describe, test } from 'node:test'
import {
  MonHostError, Msgr2UnsupportedError, disambiguate, formatMonHostAddr, parseMonHost, parseMonHostAddr, v1Targets
} from '../../lib/config/mon-host.ts'

const a = (type: 'v1' | 'v2' | 'any', host: string, port: number, nonce = 0): { type: 'v1' | 'v2' | 'any', host: string, port: number, nonce: number } => ({ type, host, port, nonce })

describe('parseMonHostAddr: one address', () => {
  const rows: Array<[string, ReturnType<typeof a>]> = [
    ['v1:127.0.0.1:6789', a('v1', '127.0.0.1', 6789)],
    ['v1:127.0.0.1:6789/0', a('v1', '127.0.0.1', 6789)],
    ['v1:10.0.0.1:40000/1234', a('v1', '10.0.0.1', 40000, 1234)],
    ['v1:localhost:6789', a('v1', 'localhost', 6789)],
    ['v1:mon-a.example.com', a('v1', 'mon-a.example.com', 6789)],
    ['v2:mon-a.example.com', a('v2', 'mon-a.example.com', 3300)],
    ['v2:1.2.3.4:3301', a('v2', '1.2.3.4', 3301)],
    ['v1:[::1]:6789', a('v1', '::1', 6789)],
    ['v1:[fe80::1%eth0]', a('v1', 'fe80::1%eth0', 6789)],
    ['[::1]:7000', a('any', '::1', 7000)],
    ['::1', a('any', '::1', 0)],
    ['localhost', a('any', 'localhost', 0)],
    ['mon1:6789', a('any', 'mon1', 6789)],
    ['any:1.2.3.4:5', a('any', '1.2.3.4', 5)],
    ['v1:127.0.0.1:0', a('v1', '127.0.0.1', 0)],
    ['  v1:127.0.0.1:6789  ', a('v1', '127.0.0.1', 6789)]
  ]
  for (const [text, want] of rows) {
    test(`'${text}'`, () => { assert.deepEqual(parseMonHostAddr(text), want) })
  }
  for (const bad of ['', 'v1:', 'v1:host:99999', 'v1:host:port', 'v1:ho st', 'v1:[::1', 'v1:[::1]x', 'v1:1.2.3.4:6789/x', 'v3:host:1', 'host:1:2:3z']) {
    test(`'${bad}' is refused with a MonHostError`, () => { assert.throws(() => parseMonHostAddr(bad), MonHostError) })
  }
})

describe('parseMonHost: lists and addrvecs', () => {
  test('a comma list, as in mon_host', () => {
    assert.deepEqual(parseMonHost('a,b'), [[a('any', 'a', 0)], [a('any', 'b', 0)]])
  })
  test('spaces, semicolons and tabs separate too; empty items are skipped', () => {
    assert.deepEqual(parseMonHost(' 1.2.3.4:6789 ;\tv1:h2 ,, v1:[::1]:1 '), [[a('any', '1.2.3.4', 6789)], [a('v1', 'h2', 6789)], [a('v1', '::1', 1)]])
  })
  test('an addrvec is one mon with several addresses', () => {
    assert.deepEqual(parseMonHost('[v2:10.0.0.1:3300,v1:10.0.0.1:6789]'), [[a('v2', '10.0.0.1', 3300), a('v1', '10.0.0.1', 6789)]])
  })
  test('addrvecs in a list, with IPv6 entries and nonces', () => {
    assert.deepEqual(parseMonHost('[v2:[::1]:3300/0,v1:[::1]:6789/0],[v2:h:3300,v1:h:6789] v1:x'), [
      [a('v2', '::1', 3300), a('v1', '::1', 6789)],
      [a('v2', 'h', 3300), a('v1', 'h', 6789)],
      [a('v1', 'x', 6789)]
    ])
  })
  test('a bracketed IPv6 host is not an addrvec', () => {
    assert.deepEqual(parseMonHost('[::1]:6789,[::2]'), [[a('any', '::1', 6789)], [a('any', '::2', 0)]])
  })
  for (const bad of ['', ' , ', '[v2:h:1,v1:h:2', '[v1:]', 'a,v1:b:x']) {
    test(`'${bad}' is refused`, () => { assert.throws(() => parseMonHost(bad), MonHostError) })
  }
})

describe("Ceph's defaults and the v1 target of each mon", () => {
  test('no protocol: no port is v2:3300 then v1:6789, 6789 is v1, another port v2 (then v1 here)', () => {
    assert.deepEqual(disambiguate(a('any', 'h', 0)), [a('v2', 'h', 3300), a('v1', 'h', 6789)])
    assert.deepEqual(disambiguate(a('any', 'h', 6789)), [a('v1', 'h', 6789)])
    assert.deepEqual(disambiguate(a('any', 'h', 4000)), [a('v2', 'h', 4000), a('v1', 'h', 4000)])
    assert.deepEqual(disambiguate(a('v2', 'h', 3300)), [a('v2', 'h', 3300)])
  })
  test('bare hosts map to v1:6789; an addrvec offering v1 uses its v1 entry', () => {
    const { targets, v2Only } = v1Targets(parseMonHost('mon-a,[v2:10.0.0.2:3300,v1:10.0.0.2:6790],v1:10.0.0.3'))
    assert.deepEqual(targets, [a('v1', 'mon-a', 6789), a('v1', '10.0.0.2', 6790), a('v1', '10.0.0.3', 6789)])
    assert.deepEqual(v2Only, [])
  })
  test('v2-only mons are left out when others remain, and named', () => {
    const { targets, v2Only } = v1Targets(parseMonHost('v2:h1,v1:h2'))
    assert.deepEqual(targets, [a('v1', 'h2', 6789)])
    assert.deepEqual(v2Only, [[a('v2', 'h1', 3300)]])
  })
  test('only v2 addresses: "msgr2 is not supported yet"', () => {
    for (const text of ['v2:127.0.0.1:3300', 'v2:h', '[v2:h:3300]', 'v2:a,v2:b']) {
      assert.throws(() => v1Targets(parseMonHost(text)), (e: unknown) => e instanceof Msgr2UnsupportedError && /msgr2 is not supported yet/.test(e.message))
    }
  })
  test('formatMonHostAddr writes what parseMonHostAddr reads', () => {
    for (const text of ['v1:127.0.0.1:6789', 'v2:[::1]:3300', 'h', 'v1:h:1/7']) {
      assert.equal(formatMonHostAddr(parseMonHostAddr(text)), text)
    }
  })
})
