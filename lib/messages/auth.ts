// MAuth (CEPH_MSG_AUTH = 17), client → mon: paxos header, u32 protocol, bufferlist auth_payload,
// u32 monmap_epoch (ceph src/messages/MAuth.h; older senders omit the epoch, so it is optional
// on decode). With protocol 0 (CEPH_AUTH_UNKNOWN) the payload is the v1 negotiation MonClient
// sends first: u8 struct_v 1, u32 count + u32 methods, EntityName (u32 type + string), u64
// global_id. A real `ceph ping` sends methods [1] (none), type 0, name "" and global_id 0.
import { AuthProtocol, MsgType } from '../wire/constants.ts'
import { Decoder, Encoder } from './denc.ts'
import { EMPTY, Message } from './message.ts'
import type { MessageHeaderInit } from './message.ts'
import { decodePaxos, defaultPaxosFields, encodePaxos } from './paxos.ts'
import type { PaxosFields } from './paxos.ts'

export interface MAuthFields extends PaxosFields {
  /** CEPH_AUTH_* (0 = negotiation). */
  protocol: number
  authPayload: Uint8Array
  monmapEpoch: number
}

export interface MAuthInit extends MessageHeaderInit, Partial<MAuthFields> {}

export class MAuth extends Message implements MAuthFields {
  paxosVersion: bigint
  deprecatedSessionMon: number
  deprecatedSessionMonTid: bigint
  protocol: number
  authPayload: Uint8Array
  monmapEpoch: number

  constructor (init: MAuthInit = {}) {
    super({ ...init, type: MsgType.AUTH })
    const paxos = defaultPaxosFields()
    this.paxosVersion = init.paxosVersion ?? paxos.paxosVersion
    this.deprecatedSessionMon = init.deprecatedSessionMon ?? paxos.deprecatedSessionMon
    this.deprecatedSessionMonTid = init.deprecatedSessionMonTid ?? paxos.deprecatedSessionMonTid
    this.protocol = init.protocol ?? AuthProtocol.UNKNOWN
    this.authPayload = init.authPayload ?? EMPTY
    this.monmapEpoch = init.monmapEpoch ?? 0
  }

  override encodePayload (_features: bigint): void {
    const enc = new Encoder(35 + this.authPayload.length)
    encodePaxos(enc, this)
    enc.u32(this.protocol).bufferlist(this.authPayload).u32(this.monmapEpoch)
    this.front = enc.finish()
  }

  static decode (m: Message): MAuth {
    const dec = new Decoder(m.front)
    const paxos = decodePaxos(dec)
    const protocol = dec.u32()
    const authPayload = dec.bufferlist()
    const monmapEpoch = dec.done ? 0 : dec.u32()
    const out = new MAuth({ ...paxos, protocol, authPayload, monmapEpoch })
    out.copyFrom(m)
    return out
  }

  /** The negotiation payload, when this is a protocol-0 MAuth. */
  get negotiation (): AuthNegotiation | undefined {
    return this.protocol === AuthProtocol.UNKNOWN ? decodeAuthNegotiation(this.authPayload) : undefined
  }
}

/** Ceph's EntityName as the auth layer encodes it: u32 CEPH_ENTITY_TYPE_* + id string. */
export interface AuthEntityName {
  type: number
  id: string
}

export interface AuthNegotiation {
  /** Always 1 from a real client. */
  structV: number
  /** CEPH_AUTH_* methods the client supports, in its order of preference. */
  methods: number[]
  entityName: AuthEntityName
  globalId: bigint
}

export function encodeAuthNegotiation (n: Partial<AuthNegotiation> = {}): Uint8Array {
  const enc = new Encoder(32)
  enc.u8(n.structV ?? 1)
  enc.array(n.methods ?? [AuthProtocol.NONE], (e, m) => e.u32(m))
  const name = n.entityName ?? { type: 0, id: '' }
  enc.u32(name.type).string(name.id)
  enc.u64(n.globalId ?? 0n)
  return enc.finish()
}

export function decodeAuthNegotiation (payload: Uint8Array): AuthNegotiation {
  const dec = new Decoder(payload)
  const structV = dec.u8()
  const methods = dec.array((d) => d.u32(), 4)
  const type = dec.u32()
  const id = dec.string()
  return { structV, methods, entityName: { type, id }, globalId: dec.u64() }
}

/** The MAuth a pinging client sends first: negotiate, offering auth "none". */
export function negotiationMAuth (opts: Partial<AuthNegotiation> & { monmapEpoch?: number } & MessageHeaderInit = {}): MAuth {
  const { structV, methods, entityName, globalId, monmapEpoch, ...header } = opts
  return new MAuth({
    ...header,
    protocol: AuthProtocol.UNKNOWN,
    authPayload: encodeAuthNegotiation({ structV, methods, entityName, globalId }),
    monmapEpoch: monmapEpoch ?? 0
  })
}
