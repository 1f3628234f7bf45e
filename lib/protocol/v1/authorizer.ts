// The authorizer a v1 connect message carries. Ceph asks its auth client for one unless a non-mon
// is talking to a mon (clients authenticate to mons with MAuth messages instead). With auth none
// it is struct_v 1, EntityName (u32 type + string id), u64 global_id 0.
import { AuthProtocol, EntityType } from '../../wire/constants.ts'

export function authNoneAuthorizer (myType: number, myId: string, peerType: number): { protocol: number, bytes: Uint8Array } | undefined {
  if (peerType === EntityType.MON && myType !== EntityType.MON) return undefined
  const id = new TextEncoder().encode(myId)
  const b = new Uint8Array(1 + 4 + 4 + id.length + 8)
  const dv = new DataView(b.buffer)
  b[0] = 1
  dv.setUint32(1, myType, true)
  dv.setUint32(5, id.length, true)
  b.set(id, 9)
  return { protocol: AuthProtocol.NONE, bytes: b }
}
