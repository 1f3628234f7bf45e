// The server's decision table (msgr-v1 fact sheet §3.2), case by case.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decideAccept } from '../../../lib/protocol/v1/accept-decision.ts'
import type { ExistingSession } from '../../../lib/protocol/v1/accept-decision.ts'
import { Policy } from '../../../lib/session/policy.ts'
import { Tag } from '../../../lib/wire/constants.ts'
import type { ConnectMsg } from '../../../lib/wire/connect.ts'

const connect = (c: Partial<ConnectMsg> = {}): ConnectMsg => ({
  features: 0x3f01cfbdfffdffffn, hostType: 4, globalSeq: 10, connectSeq: 0, protocolVersion: 0,
  authorizerProtocol: 0, authorizerLen: 0, flags: 0, authorizer: new Uint8Array(0), ...c
})
const existing = (e: Partial<ExistingSession> = {}): ExistingSession => ({
  connectSeq: 1, peerGlobalSeq: 5, lossy: false, connecting: false, established: true, closed: false, replacing: false, policyServer: false, ...e
})
const base = { myProtocol: 0, policy: Policy.losslessPeerReuse(), required: 2n, peerAddrLower: false }

test('protocol mismatch → BADPROTOVER; missing required features → FEATURES', () => {
  assert.deepEqual(decideAccept({ ...base, connect: connect({ protocolVersion: 15 }), existing: undefined }).action, 'refuse')
  const d = decideAccept({ ...base, connect: connect({ protocolVersion: 15 }), existing: undefined })
  assert.equal(d.action === 'refuse' && d.tag, Tag.BADPROTOVER)
  const f = decideAccept({ ...base, required: 1n << 40n, connect: connect({ features: 2n }), existing: undefined })
  assert.equal(f.action === 'refuse' && f.tag, Tag.FEATURES)
})

test('a stateless server opens without looking for a session', () => {
  assert.equal(decideAccept({ ...base, policy: Policy.statelessServer(), connect: connect({ connectSeq: 7 }), existing: existing() }).action, 'open')
})

test('no session: cseq 0 opens, cseq > 0 gets RESETSESSION', () => {
  assert.equal(decideAccept({ ...base, connect: connect(), existing: undefined }).action, 'open')
  const d = decideAccept({ ...base, connect: connect({ connectSeq: 3 }), existing: undefined })
  assert.equal(d.action === 'retry' && d.tag, Tag.RESETSESSION)
})

test('older global_seq or a session being replaced → RETRY_GLOBAL with the peer gseq we know', () => {
  const d = decideAccept({ ...base, connect: connect({ globalSeq: 4, connectSeq: 1 }), existing: existing({ peerGlobalSeq: 5 }) })
  assert.deepEqual(d.action === 'retry' && [d.tag, d.globalSeq], [Tag.RETRY_GLOBAL, 5])
  const r = decideAccept({ ...base, connect: connect({ connectSeq: 1 }), existing: existing({ replacing: true }) })
  assert.equal(r.action === 'retry' && r.tag, Tag.RETRY_GLOBAL)
})

test('peer restarted (cseq 0 while we have cseq > 0) → replace with a session reset under resetcheck', () => {
  const d = decideAccept({ ...base, connect: connect({ connectSeq: 0 }), existing: existing({ connectSeq: 2 }) })
  assert.deepEqual(d.action === 'replace' && d.reset, true)
  const p = decideAccept({ ...base, policy: Policy.losslessPeer(), connect: connect({ connectSeq: 0 }), existing: existing({ connectSeq: 2 }) })
  assert.deepEqual(p.action === 'replace' && p.reset, false)
})

test('stale connect_seq → RETRY_SESSION with ours + 1; a newer one replaces (normal reconnect)', () => {
  const d = decideAccept({ ...base, connect: connect({ connectSeq: 1 }), existing: existing({ connectSeq: 3 }) })
  assert.deepEqual(d.action === 'retry' && [d.tag, d.connectSeq], [Tag.RETRY_SESSION, 4])
  assert.equal(decideAccept({ ...base, connect: connect({ connectSeq: 4 }), existing: existing({ connectSeq: 3 }) }).action, 'replace')
})

test('connection race: the lower address wins; otherwise WAIT', () => {
  const race = existing({ connectSeq: 0, connecting: true, established: false })
  assert.equal(decideAccept({ ...base, peerAddrLower: true, connect: connect(), existing: race }).action, 'replace')
  const w = decideAccept({ ...base, peerAddrLower: false, connect: connect(), existing: race })
  assert.equal(w.action === 'retry' && w.tag, Tag.WAIT)
})

test('a lossy existing session is replaced after a reset', () => {
  const d = decideAccept({ ...base, connect: connect({ connectSeq: 1 }), existing: existing({ lossy: true }) })
  assert.deepEqual(d.action === 'replace' && d.reset, true)
})
