// `ceph-msgr decode` as a user runs it (a child process: bin, tsx, exit codes), and in-process through
// main(argv, io) for the many cases where only the output matters.
import { after, before, describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('../../', import.meta.url))
const fixtures = join(root, 'spec/fixtures/ceph-ping-v1')
const CLIENT = join(fixtures, 'client-to-mon.bin')
const SERVER = join(fixtures, 'mon-to-client.bin')

interface Result { code: number, stdout: string, stderr: string }

function cli (...args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(process.execPath, [join(root, 'bin/ceph-msgr.js'), ...args], { cwd: root }, (err, stdout, stderr) => {
      const code = err === null ? 0 : typeof err.code === 'number' ? err.code : -1
      resolve({ code, stdout, stderr })
    })
  })
}

type Line = Record<string, unknown>
function jsonLines (out: string): Line[] {
  return out.trimEnd().split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as Line)
}

let tmp = ''
before(async () => { tmp = await mkdtemp(join(tmpdir(), 'ceph-msgr-decode-')) })
after(async () => { await rm(tmp, { recursive: true, force: true }) })

/** A copy of `src` with byte `at` XORed with `mask`, in the temp dir. */
async function corrupt (src: string, name: string, at: number, mask = 1): Promise<string> {
  const b = new Uint8Array(await readFile(src))
  b[at] ^= mask
  const path = join(tmp, name)
  await writeFile(path, b)
  return path
}

/** The dispatcher (and the command) in this process, output captured: cheaper than a child each. */
async function dispatch (...args: string[]): Promise<Result> {
  const { main } = await import('../../lib/cli/main.ts')
  let stdout = ''
  let stderr = ''
  const code = await main(args, { out: (t) => { stdout += t }, err: (t) => { stderr += t } })
  return { code, stdout, stderr }
}

describe('ceph-msgr decode', { concurrency: true }, () => {
  it('--json: one object per frame, in causal order, with the capture\'s values', async () => {
    const r = await cli('decode', CLIENT, SERVER, '--json')
    assert.equal(r.stderr, '')
    assert.equal(r.code, 0)
    const lines = jsonLines(r.stdout)
    assert.deepEqual(lines.map((l) => `${String(l.from)} ${String(l.kind)} @${String(l.offset)}`), [
      'client banner @0', 'server banner @0', 'server addr @9', 'server addr @145', 'client addr @9',
      'client connect @145', 'server connect_reply @281', 'server seq @307', 'client seq @178',
      'client keepalive2 @186', 'client msg @195', 'client msg @325', 'server keepalive2_ack @315',
      'server msg @324', 'server msg @423', 'server msg @703'
    ])
    const by = (from: string, kind: string): Line[] => lines.filter((l) => l.from === from && l.kind === kind)

    assert.equal(by('client', 'addr')[0].addr, 'v1:127.0.0.1:0/3347990070')
    assert.equal(by('client', 'addr')[0].nonce, 0xc78e4636)
    assert.equal(by('server', 'addr')[0].addr, 'v1:127.0.0.1:6789/0')
    assert.deepEqual(by('client', 'connect')[0], {
      kind: 'connect', from: 'client', offset: 145, features: '0x3f01cfbdfffdffff', host_type: 8, global_seq: 1,
      connect_seq: 0, protocol_version: 15, authorizer_protocol: 0, authorizer_len: 0, flags: 0
    })
    assert.deepEqual(by('server', 'connect_reply')[0], {
      kind: 'connect_reply', from: 'server', offset: 281, tag: 'SEQ', features: '0x3f01cfbdfffdffff', global_seq: 18,
      connect_seq: 1, protocol_version: 15, authorizer_len: 0, flags: 1
    })
    assert.equal(by('server', 'seq')[0].seq, 0)
    assert.equal(by('client', 'seq')[0].seq, 0)
    const stamp = { sec: 1795629123, nsec: 684193572 }
    assert.deepEqual(by('client', 'keepalive2')[0].stamp, stamp)
    assert.deepEqual(by('server', 'keepalive2_ack')[0].stamp, stamp)

    const pick = (l: Line): Line => ({
      seq: l.seq, tid: l.tid, type: l.type, type_name: l.type_name, priority: l.priority, version: l.version,
      compat_version: l.compat_version, front_len: l.front_len, middle_len: l.middle_len, data_len: l.data_len,
      src: l.src, crc_ok: l.crc_ok
    })
    const msg = (seq: number, type: number, typeName: string, priority: number, compat: number, front: number, src: string): Line => ({
      seq, tid: 0, type, type_name: typeName, priority, version: 1, compat_version: compat, front_len: front,
      middle_len: 0, data_len: 0, src, crc_ok: true
    })
    assert.deepEqual(by('client', 'msg').map(pick), [
      msg(1, 17, 'AUTH', 127, 1, 55, 'client.?'),
      msg(2, 2, 'PING', 127, 1, 0, 'client.?')
    ])
    assert.deepEqual(by('server', 'msg').map(pick), [
      msg(1, 18, 'AUTH_REPLY', 196, 1, 24, 'mon.0'),
      msg(2, 4, 'MON_MAP', 196, 1, 205, 'mon.0'),
      msg(3, 2, 'PING', 196, 0, 3284, 'mon.0')
    ])
  })

  it('text form: one readable line per frame', async () => {
    const r = await dispatch('decode', CLIENT, SERVER)
    assert.equal(r.code, 0)
    const lines = r.stdout.trimEnd().split('\n')
    assert.equal(lines.length, 16)
    assert.ok(lines.includes('client msg seq=1 type=17 AUTH prio=127 front=55 middle=0 data=0 src=client.? crc=ok @195'), r.stdout)
    assert.ok(lines.includes('server msg seq=3 type=2 PING prio=196 front=3284 middle=0 data=0 src=mon.0 crc=ok @703'), r.stdout)
    assert.ok(lines.some((l) => l.startsWith('server connect_reply tag=SEQ ')))
  })

  it('a corrupted client stream: frames up to the error, then the error line and exit 1', async () => {
    const bad = await corrupt(CLIENT, 'client-front.bin', 195 + 1 + 53 + 10)
    const r = await cli('decode', bad, SERVER, '--json')
    assert.equal(r.code, 1)
    assert.equal(r.stderr, 'error: BAD_FRONT_CRC at offset 249 (client stream): front crc mismatch\n')
    const lines = jsonLines(r.stdout)
    assert.equal(lines.length, 10)
    assert.equal(lines.at(-1)?.kind, 'keepalive2')
  })

  it('a corrupted server stream names the server stream', async () => {
    const bad = await corrupt(SERVER, 'server-header.bin', 703 + 1 + 16)
    const r = await dispatch('decode', CLIENT, bad)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^error: BAD_HEADER_CRC at offset 704 \(server stream\): header crc 0x[0-9a-f]+ != computed 0x[0-9a-f]+\n$/)
    assert.equal(r.stdout.trimEnd().split('\n').length, 15)
  })

  it('a truncated stream → TRUNCATED', async () => {
    const path = join(tmp, 'server-short.bin')
    await writeFile(path, (await readFile(SERVER)).subarray(0, 1000))
    const r = await dispatch('decode', CLIENT, path, '--json')
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^error: TRUNCATED at offset 757 \(server stream\): /)
  })

  it('--no-crc decodes through a bad crc and reports crc_ok false', async () => {
    const bad = await corrupt(CLIENT, 'client-front-nocrc.bin', 195 + 1 + 53 + 10)
    const r = await dispatch('decode', bad, SERVER, '--json', '--no-crc')
    assert.equal(r.code, 0)
    const msgs = jsonLines(r.stdout).filter((l) => l.kind === 'msg')
    assert.deepEqual(msgs.map((l) => l.crc_ok), [false, true, true, true, true])
  })

  it('an unreadable file → error, exit 1', async () => {
    const r = await dispatch('decode', join(tmp, 'missing.bin'), SERVER)
    assert.equal(r.code, 1)
    assert.match(r.stderr, /^error: cannot read .*missing\.bin/)
    assert.equal(r.stdout, '')
  })

  it('usage errors exit 2 (as a process too); --help and help decode show its usage', async () => {
    const [one, bogus, help, helpDecode] = await Promise.all([
      cli('decode', CLIENT), dispatch('decode', CLIENT, SERVER, '--bogus'), dispatch('decode', '--help'), dispatch('help', 'decode')
    ])
    assert.equal(one.code, 2)
    assert.match(one.stderr, /usage: ceph-msgr decode CLIENT\.bin SERVER\.bin/)
    assert.equal(bogus.code, 2)
    assert.match(bogus.stderr, /^error: .*--bogus/)
    for (const r of [help, helpDecode]) {
      assert.equal(r.code, 0)
      assert.match(r.stdout, /^usage: ceph-msgr decode CLIENT\.bin SERVER\.bin/)
    }
  })
})

describe('ceph-msgr dispatcher', () => {
  it('no command: usage on stderr, exit 2', async () => {
    const r = await dispatch()
    assert.equal(r.code, 2)
    assert.match(r.stderr, /^usage: ceph-msgr <command> \[args\]/)
  })

  it('--help, -h and help: usage listing the commands on stdout, exit 0', async () => {
    for (const args of [['--help'], ['-h'], ['help']]) {
      const r = await dispatch(...args)
      assert.equal(r.code, 0)
      assert.match(r.stdout, /^ {2}decode +decode both directions/m)
    }
  })

  it('unknown commands and options exit 2', async () => {
    const unknown = await dispatch('nope')
    assert.equal(unknown.code, 2)
    assert.match(unknown.stderr, /^error: unknown command 'nope'/)
    assert.equal((await dispatch('toString')).code, 2, 'only registered commands, not Object.prototype')
    assert.equal((await dispatch('--bogus', 'decode')).code, 2)
  })

  it('--version prints the package version', async () => {
    const r = await dispatch('--version')
    assert.equal(r.code, 0)
    assert.match(r.stdout, /^ceph-msgr \d+\.\d+\.\d+/)
  })
})
