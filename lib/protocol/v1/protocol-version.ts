// The protocol_version a v1 connect carries and checks: between peers of the same type their
// cluster protocol (13 for mons), otherwise the client protocol of the server's type (a client
// connecting names the peer's, a server accepting names its own).
import { EntityType, ProtocolVersion } from '../../wire/constants.ts'

export function protocolVersionFor (myType: number, clusterProtocol: number, peerType: number, connecting: boolean): number {
  if (peerType === myType) return clusterProtocol
  switch (connecting ? peerType : myType) {
    case EntityType.OSD: return ProtocolVersion.OSDC
    case EntityType.MDS: return ProtocolVersion.MDSC
    case EntityType.MON: return ProtocolVersion.MONC
    default: return 0
  }
}
