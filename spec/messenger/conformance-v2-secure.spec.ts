// The messenger conformance suite, msgr2.1 in secure mode (cephx, AES-128-GCM), over TCP on loopback.
import { defineConformance } from './conformance/suite.ts'

defineConformance('tcp', 'v2-secure')
