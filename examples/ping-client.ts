// Ping a mon from library code: MonPingClient does what `ceph ping mon.X` does (lossy client,
// MAuth "none", MPing) and keeps the connection for the next ping.
//
//   node --import tsx examples/ping-client.ts                        # starts its own Monitor
//   node --import tsx examples/ping-client.ts v1:127.0.0.1:6789      # or pings a real mon
import { MonPingClient, Monitor, parsePong } from '../lib/mon/index.ts'
import { formatEntityAddr } from '../lib/index.ts'

let mon: Monitor | undefined
let target = process.argv[2]
if (target === undefined) {
  mon = new Monitor({ addr: 'v1:127.0.0.1:0' })
  target = formatEntityAddr(await mon.init())
}

const client = new MonPingClient(target, { timeoutMs: 5000 })
try {
  for (let i = 1; i <= 3; i++) {
    const pong = await client.ping()
    const status = parsePong(pong.text)?.mon_status as { name?: string, state?: string } | undefined
    console.log(`pong ${i} from mon.${status?.name} (${status?.state}): ${pong.rttMs.toFixed(3)} ms` +
      (pong.connectMs === undefined ? '' : `, connect ${pong.connectMs.toFixed(3)} ms`))
  }
  console.log('global_id', client.lastAuthReply?.globalId, 'monmap epoch', client.lastMonMap?.epoch)
} catch (e) {
  // PingError: kind is connect | refused | timeout | protocol | reset | closed.
  console.error(String(e))
  process.exitCode = 1
} finally {
  await client.close()
  await mon?.shutdown()
}
