// decideFault, the policy table of a fault, case by case; and the backoff between attempts.
import assert from 'node:assert/strict'
import { test } from 'node:test'
import { decideFault, nextBackoff } from '../../lib/protocol/fault.ts'
import type { FaultInput } from '../../lib/protocol/fault.ts'
import { Policy } from '../../lib/session/policy.ts'

const base = (over: Partial<FaultInput> = {}): FaultInput => ({
  phase: 'open', kind: 'error', policy: Policy.losslessPeer(), lossy: false, replaced: false, idle: false,
  canDial: true, backoffMs: 0, initialBackoffMs: 200, maxBackoffMs: 15000, ...over
})

test('a socket replaced by a newer one from the same peer is not a fault of the session', () => {
  assert.deepEqual(decideFault(base({ replaced: true, lossy: true })), { action: 'replaced' })
})

test('lossy: any fault ends the session with a reset, before or after it opened', () => {
  assert.deepEqual(decideFault(base({ lossy: true })), { action: 'close', event: 'reset' })
  assert.deepEqual(decideFault(base({ lossy: true, phase: 'handshake' })), { action: 'close', event: 'reset' })
})

test('a refusal closes the session as refused; WAIT during the handshake waits', () => {
  assert.deepEqual(decideFault(base({ kind: 'refused' })), { action: 'close', event: 'refused' })
  assert.deepEqual(decideFault(base({ kind: 'refused', phase: 'handshake' })), { action: 'close', event: 'refused' })
  assert.deepEqual(decideFault(base({ kind: 'wait', phase: 'handshake' })), { action: 'wait' })
})

test('lossless open session: reconnect at once with connect_seq + 1, unless standby and idle', () => {
  assert.deepEqual(decideFault(base()), { action: 'reconnect', backoffMs: 0, bumpConnectSeq: true })
  assert.deepEqual(decideFault(base({ idle: true })), { action: 'standby' }, 'standby policy, nothing owed')
  assert.deepEqual(decideFault(base({ idle: true, policy: Policy.losslessClient() })), { action: 'reconnect', backoffMs: 0, bumpConnectSeq: true }, 'no standby: reconnect even when idle')
})

test('a server, or a peer whose listening address we do not know, never dials: standby', () => {
  assert.deepEqual(decideFault(base({ policy: Policy.statefulServer().with({ standby: false }) })), { action: 'standby' })
  assert.deepEqual(decideFault(base({ canDial: false })), { action: 'standby' })
})

test('handshake failures back off exponentially from the initial to the maximum backoff', () => {
  let b = 0
  const seen: number[] = []
  for (let i = 0; i < 10; i++) {
    const d = decideFault(base({ phase: 'handshake', backoffMs: b }))
    assert.equal(d.action, 'reconnect')
    if (d.action !== 'reconnect') return
    assert.equal(d.bumpConnectSeq, false)
    b = d.backoffMs
    seen.push(b)
  }
  assert.deepEqual(seen, [200, 400, 800, 1600, 3200, 6400, 12800, 15000, 15000, 15000])
  assert.equal(nextBackoff(0, 1, 2), 1)
})
