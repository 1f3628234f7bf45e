// The messenger conformance suite, msgr2.1 (crc mode, auth none) over TCP on loopback.
import { defineConformance } from './conformance/suite.ts'

defineConformance('tcp', 'v2')
