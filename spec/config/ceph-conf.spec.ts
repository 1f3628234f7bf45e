// ceph.conf in Ceph's dialect (lib/config/ceph-conf.ts): sections, key spellings, comments,
// continuations, quotes, precedence, and where the file is looked for.
import assert from 'node:assert/strict'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, test } from 'node:test'
import { CephConfError, confGet, debugLevel, findCephConf, loadCephConf, normalizeKey, parseCephConf, sectionsFor } from '../../lib/config/ceph-conf.ts'

// What `cephadm bootstrap` writes, then what people add by hand.
const SAMPLE = `# minimal ceph.conf for 8a2b1c6e-...
[global]
	fsid = 8a2b1c6e-0f6d-11ef-9c1a-525400a1b2c3
	mon_host = [v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0] [v2:10.0.0.2:3300/0,v1:10.0.0.2:6789/0]
  Mon Initial Members = a, b   ; inline comment
log-file = /var/log/ceph/$cluster-$name.log
[client]
	keyring = "/etc/ceph/$cluster.$name.keyring"  # quoted, then a comment
	debug ms = 0
[client.rgw]
	debug_ms = 1/5
	mon-host = v1:10.0.0.9
`

describe('parseCephConf', () => {
  test("sections, Ceph's key spellings, comments, quotes, metavariables left alone", () => {
    const c = parseCephConf(SAMPLE)
    assert.deepEqual([...c.keys()], ['global', 'client', 'client.rgw'])
    assert.deepEqual(Object.fromEntries(c.get('global') ?? []), {
      fsid: '8a2b1c6e-0f6d-11ef-9c1a-525400a1b2c3',
      mon_host: '[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0] [v2:10.0.0.2:3300/0,v1:10.0.0.2:6789/0]',
      Mon_Initial_Members: 'a, b',
      log_file: '/var/log/ceph/$cluster-$name.log'
    })
    assert.equal(c.get('client')?.get('keyring'), '/etc/ceph/$cluster.$name.keyring')
    assert.equal(c.get('client.rgw')?.get('mon_host'), 'v1:10.0.0.9')
  })
  test('spaces, underscores and dashes are one key; runs of blanks are one underscore', () => {
    for (const k of ['mon host', 'mon_host', 'mon-host', '  mon \t host ']) assert.equal(normalizeKey(k), 'mon_host')
    const c = parseCephConf('[global]\nmon host = a\nmon-host = b\n')
    assert.deepEqual(Object.fromEntries(c.get('global') ?? []), { mon_host: 'b' })
  })
  test('a section given twice is merged; the later value wins', () => {
    const c = parseCephConf('[global]\na = 1\nb = 1\n[client]\nx = 1\n[global]\nb = 2\n')
    assert.deepEqual(Object.fromEntries(c.get('global') ?? []), { a: '1', b: '2' })
  })
  test('continuation lines, escapes, both quotes, empty values, CRLF, no final newline', () => {
    const c = parseCephConf('[global]\r\nlong = one \\\n  two\r\nesc = a \\# b \\; c\ns = \'single \\# escaped\'\nd = "double"\nempty =\nq = ""\nlast = x')
    assert.deepEqual(Object.fromEntries(c.get('global') ?? []), {
      long: 'one   two', esc: 'a # b ; c', s: 'single # escaped', d: 'double', empty: '', q: '', last: 'x'
    })
  })
  test('empty text, comments only, and /dev/null-like input give no sections', () => {
    assert.equal(parseCephConf('').size, 0)
    assert.equal(parseCephConf('# nothing\n; here\n\n   \n').size, 0)
  })
  const bad: Array<[string, RegExp, number]> = [
    ['[global\nx = 1\n', /expected '\]'/, 1],
    ['[global]\nno equals sign\n', /expected '=' after 'no equals sign'/, 2],
    ['x = 1\n', /outside any \[section\]/, 1],
    ['[global]\n\nq = "open\n', /unterminated "-quoted value/, 3],
    ['[global]\nq = "a # b"\n', /unescaped '#' inside a quoted value/, 2],
    ['[global]\nq = "a" b\n', /unexpected 'b'/, 2],
    ['[]\n', /empty section name/, 1],
    ['[global]\n= v\n', /a value without a key/, 2]
  ]
  for (const [text, msg, line] of bad) {
    test(`refused like Ceph refuses it: ${JSON.stringify(text)}`, () => {
      assert.throws(() => parseCephConf(text, 'x.conf'), (e: unknown) => e instanceof CephConfError && msg.test(e.message) && e.line === line && e.message.startsWith(`x.conf:${line}: `))
    })
  }
})

describe('confGet: [client.NAME] over [client] over [global]', () => {
  const c = parseCephConf(SAMPLE)
  test('sectionsFor', () => {
    assert.deepEqual(sectionsFor('client.admin'), ['client.admin', 'client', 'global'])
    assert.deepEqual(sectionsFor('mon.a'), ['mon.a', 'mon', 'global'])
    assert.deepEqual(sectionsFor('client.rgw.gw1'), ['client.rgw.gw1', 'client', 'global'])
  })
  test('the most specific section wins, in any key spelling', () => {
    assert.equal(confGet(c, 'mon host', 'client.admin'), '[v2:10.0.0.1:3300/0,v1:10.0.0.1:6789/0] [v2:10.0.0.2:3300/0,v1:10.0.0.2:6789/0]')
    assert.equal(confGet(c, 'mon-host', 'client.rgw'), 'v1:10.0.0.9')
    assert.equal(confGet(c, 'debug_ms', 'client.admin'), '0')
    assert.equal(confGet(c, 'debug ms', 'client.rgw'), '1/5')
    assert.equal(confGet(c, 'fsid', 'client.rgw'), '8a2b1c6e-0f6d-11ef-9c1a-525400a1b2c3')
    assert.equal(confGet(c, 'nope'), undefined)
  })
  test('debugLevel reads Ceph\'s "log/memory" levels', () => {
    assert.equal(debugLevel('1/5'), 1)
    assert.equal(debugLevel(' 20 '), 20)
    assert.equal(debugLevel('loud'), undefined)
    assert.equal(debugLevel(undefined), undefined)
  })
})

describe('findCephConf: -c over CEPH_CONF over the default paths', () => {
  const none = (): boolean => false
  test('-c wins', () => {
    assert.deepEqual(findCephConf('/x.conf', { CEPH_CONF: '/env.conf' }, () => true), { path: '/x.conf', source: 'option' })
  })
  test('then CEPH_CONF', () => {
    assert.deepEqual(findCephConf(undefined, { CEPH_CONF: '/env.conf' }, none), { path: '/env.conf', source: 'env' })
  })
  test('then the first default path that exists, or none', () => {
    assert.deepEqual(findCephConf(undefined, {}, (p) => p === '/b', ['/a', '/b', '/c']), { path: '/b', source: 'default' })
    assert.deepEqual(findCephConf(undefined, {}, none, ['/a']), { path: undefined, source: 'none' })
    assert.equal(findCephConf(undefined, {}, (p) => p === '/etc/ceph/ceph.conf').path, '/etc/ceph/ceph.conf')
  })
  test('loadCephConf: a missing file is an error naming it; /dev/null is an empty conf', async () => {
    await assert.rejects(loadCephConf('/nonexistent/ceph.conf'), /\/nonexistent\/ceph\.conf: cannot read: ENOENT/)
    assert.equal((await loadCephConf('/dev/null')).size, 0)
    const dir = await mkdtemp(join(tmpdir(), 'ceph-conf-'))
    try {
      await writeFile(join(dir, 'ceph.conf'), SAMPLE)
      assert.equal(confGet(await loadCephConf(join(dir, 'ceph.conf')), 'mon_host', 'client.rgw'), 'v1:10.0.0.9')
    } finally {
      await rm(dir, { recursive: true, force: true })
    }
  })
})
