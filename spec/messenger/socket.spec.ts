// The pull form of a MsgrSocket (read / readable), over TCP and the in-memory pair: queued chunks
// come out in order without waiting, undefined means "nothing yet", null is EOF, and a socket
// error is thrown.
import { describe, it } from 'node:test'
import assert from 'node:assert/strict'
import { createServer, connect } from 'node:net'
import type { Socket } from 'node:net'
import { memorySocketPair } from '../../lib/messenger/memory-socket.ts'
import type { MsgrSocket } from '../../lib/messenger/socket.ts'
import { TcpSocket } from '../../lib/messenger/tcp-socket.ts'

interface Pair {
  ours: MsgrSocket
  /** Send bytes from the peer, end it, or reset it. */
  send: (b: Uint8Array) => void
  end: () => void
  close: () => Promise<void>
}

async function tcpPair (): Promise<Pair> {
  let peer: Socket | undefined
  const server = createServer((s) => { peer = s })
  await new Promise<void>((resolve) => { server.listen(0, '127.0.0.1', resolve) })
  const port = (server.address() as { port: number }).port
  const c = connect({ host: '127.0.0.1', port })
  await new Promise<void>((resolve) => { c.once('connect', resolve) })
  while (peer === undefined) await new Promise((resolve) => setImmediate(resolve))
  const p = peer
  return {
    ours: new TcpSocket(c),
    send: (b) => { p.write(b) },
    end: () => { p.end() },
    close: async () => { c.destroy(); p.destroy(); await new Promise((resolve) => { server.close(resolve) }) }
  }
}

function memoryPair (): Pair {
  const addr = { ip: '127.0.0.1', port: 1, family: 4 }
  const [ours, peer] = memorySocketPair(addr, { ...addr, port: 2 })
  return { ours, send: (b) => { void peer.write([b]) }, end: () => { peer.end() }, close: async () => { ours.destroy(); peer.destroy() } }
}

/** Everything readable now, waiting first if nothing is. */
async function drainNow (s: MsgrSocket): Promise<Array<Uint8Array | null>> {
  const read = s.read?.bind(s)
  assert.ok(read !== undefined && s.readable !== undefined)
  await s.readable()
  const out: Array<Uint8Array | null> = []
  for (let c = read(); c !== undefined; c = read()) {
    out.push(c)
    if (c === null) break
  }
  return out
}

for (const [name, make] of [['tcp', tcpPair], ['memory', memoryPair]] as const) {
  describe(`MsgrSocket pull form over ${name}`, () => {
    it('chunks in order, undefined when nothing is queued, null at EOF', async () => {
      const p = await make()
      try {
        assert.equal(p.ours.read?.(), undefined)
        p.send(new Uint8Array([1, 2, 3]))
        p.send(new Uint8Array([4, 5]))
        const got: number[] = []
        while (got.length < 5) {
          for (const c of await drainNow(p.ours)) {
            assert.ok(c !== null, 'no EOF yet')
            got.push(...c)
          }
        }
        assert.deepEqual(got, [1, 2, 3, 4, 5])
        assert.equal(p.ours.read?.(), undefined)
        p.end()
        const rest = await drainNow(p.ours)
        assert.deepEqual(rest, [null])
        assert.equal(p.ours.read?.(), null, 'EOF stays EOF')
      } finally {
        await p.close()
      }
    })

    it('a socket error is thrown by read()', async () => {
      const p = await make()
      try {
        p.ours.destroy(Object.assign(new Error('boom'), { code: 'EBOOM' }))
        // net reports a destroy's error on the next tick.
        await new Promise((resolve) => setImmediate(resolve))
        await p.ours.readable?.()
        if (name === 'tcp') {
          // TCP reports its own destroy(err) as the error.
          assert.throws(() => p.ours.read?.(), /boom/)
        } else {
          // The in-memory pair: our reads end; the peer is the one that sees a reset.
          assert.equal(p.ours.read?.(), null)
        }
      } finally {
        await p.close()
      }
    })
  })
}
