// The messenger conformance suite, msgr2.1 (crc mode, auth none) over the in-memory transport.
import { defineConformance } from './conformance/suite.ts'

defineConformance('memory', 'v2')
