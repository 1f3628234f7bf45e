// `ceph-msgr decode CLIENT.bin SERVER.bin [--json] [--no-crc]`: decode the two directions of one
// recorded msgr v1 conversation (e.g. the halves of a capture) and print one line per frame, in
// causal order. A protocol error ends the output with one line on stderr and exit code 1.
import { readFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { FooterFlag, entityTypeName, msgTypeName, tagName } from '../wire/constants.ts'
import { ConversationError, decodeConversation } from '../wire/conversation.ts'
import type { ConversationFrame } from '../wire/conversation.ts'
import { crc32c } from '../wire/crc32c.ts'
import { formatEntityAddr } from '../wire/entity-addr.ts'
import { formatEntityName } from '../wire/entity-name.ts'
import { formatFeatures } from '../wire/features.ts'
import type { MsgFrame, Timespec } from '../wire/frame.ts'
import { encodeHeader, headerCrc } from '../wire/header.ts'
// Type only: a value import of main.ts would deadlock when main.ts is the entry module (its
// top-level await is waiting for this module).
import { stdio } from './io.ts'
import type { Io } from './io.ts'

const USAGE = `usage: ceph-msgr decode CLIENT.bin SERVER.bin [--json] [--no-crc]

Decodes both directions of one msgr v1 conversation: CLIENT.bin holds the bytes the connecting
side sent, SERVER.bin the bytes the accepting side sent. Prints one line per frame.

  --json     one JSON object per line instead of text
  --no-crc   do not stop at crc mismatches (crc_ok / crc= then tells which messages fail)
`


type Json = Record<string, string | number | boolean | null | Record<string, number>>

/** Recompute every crc of a message (independently of the decoder's own checks). */
function crcOk (m: MsgFrame): boolean {
  // The header re-encodes to its wire bytes (crc field excluded from the covered 49 bytes).
  if (headerCrc(encodeHeader(m.header, false)) !== m.header.crc) return false
  if (crc32c(m.front) !== m.footer.frontCrc || crc32c(m.middle) !== m.footer.middleCrc) return false
  return (m.footer.flags & FooterFlag.NOCRC) !== 0 || crc32c(m.data) === m.footer.dataCrc
}

function stampText (s: Timespec): string {
  return `${s.sec}.${String(s.nsec).padStart(9, '0')}`
}

export function toJson ({ from, frame: f, offset }: ConversationFrame): Json {
  const base = { kind: f.kind, from, offset }
  switch (f.kind) {
    case 'banner':
    case 'keepalive':
    case 'close':
      return base
    case 'addr':
      return { ...base, which: f.which, addr: formatEntityAddr(f.addr), nonce: f.addr.nonce, family: f.addr.family, ip: f.addr.ip, port: f.addr.port }
    case 'connect': {
      const c = f.connect
      return {
        ...base,
        features: formatFeatures(c.features),
        host_type: c.hostType,
        global_seq: c.globalSeq,
        connect_seq: c.connectSeq,
        protocol_version: c.protocolVersion,
        authorizer_protocol: c.authorizerProtocol,
        authorizer_len: c.authorizerLen,
        flags: c.flags
      }
    }
    case 'connect_reply': {
      const r = f.reply
      return {
        ...base,
        tag: tagName(r.tag),
        features: formatFeatures(r.features),
        global_seq: r.globalSeq,
        connect_seq: r.connectSeq,
        protocol_version: r.protocolVersion,
        authorizer_len: r.authorizerLen,
        flags: r.flags
      }
    }
    case 'seq':
    case 'ack':
      return { ...base, seq: f.seq }
    case 'keepalive2':
    case 'keepalive2_ack':
      return { ...base, stamp: { sec: f.stamp.sec, nsec: f.stamp.nsec } }
    case 'msg': {
      const h = f.header
      return {
        ...base,
        seq: h.seq,
        tid: h.tid,
        type: h.type,
        type_name: msgTypeName(h.type),
        priority: h.priority,
        version: h.version,
        compat_version: h.compatVersion,
        front_len: h.frontLen,
        middle_len: h.middleLen,
        data_len: h.dataLen,
        data_off: h.dataOff,
        src: formatEntityName(h.src),
        footer_flags: f.footer.flags,
        crc_ok: crcOk(f)
      }
    }
  }
}

export function toText ({ from, frame: f, offset }: ConversationFrame): string {
  let body: string
  switch (f.kind) {
    case 'banner': body = 'banner'; break
    case 'keepalive': body = 'keepalive'; break
    case 'close': body = 'close'; break
    case 'addr': body = `addr ${f.which} ${formatEntityAddr(f.addr)}`; break
    case 'connect': {
      const c = f.connect
      body = `connect features=${formatFeatures(c.features)} host_type=${c.hostType} (${entityTypeName(c.hostType)})` +
        ` global_seq=${c.globalSeq} connect_seq=${c.connectSeq} protocol=${c.protocolVersion} flags=${c.flags}` +
        ` authorizer_protocol=${c.authorizerProtocol} authorizer_len=${c.authorizerLen}`
      break
    }
    case 'connect_reply': {
      const r = f.reply
      body = `connect_reply tag=${tagName(r.tag)} features=${formatFeatures(r.features)} global_seq=${r.globalSeq}` +
        ` connect_seq=${r.connectSeq} protocol=${r.protocolVersion} flags=${r.flags} authorizer_len=${r.authorizerLen}`
      break
    }
    case 'seq': body = `seq ${f.seq}`; break
    case 'ack': body = `ack seq=${f.seq}`; break
    case 'keepalive2': body = `keepalive2 stamp=${stampText(f.stamp)}`; break
    case 'keepalive2_ack': body = `keepalive2_ack stamp=${stampText(f.stamp)}`; break
    case 'msg': {
      const h = f.header
      body = `msg seq=${h.seq} type=${h.type} ${msgTypeName(h.type)} prio=${h.priority} front=${h.frontLen}` +
        ` middle=${h.middleLen} data=${h.dataLen} src=${formatEntityName(h.src)} crc=${crcOk(f) ? 'ok' : 'BAD'}`
      break
    }
  }
  return `${from} ${body} @${offset}`
}

export async function run (argv: string[], io: Io = stdio): Promise<number> {
  let parsed
  try {
    parsed = parseArgs({
      args: argv,
      options: { json: { type: 'boolean' }, 'no-crc': { type: 'boolean' }, help: { type: 'boolean', short: 'h' } },
      allowPositionals: true,
      strict: true
    })
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n${USAGE}`)
    return 2
  }
  const { values, positionals } = parsed
  if (values.help === true) {
    io.out(USAGE)
    return 0
  }
  if (positionals.length !== 2) {
    io.err(`error: need CLIENT.bin and SERVER.bin\n${USAGE}`)
    return 2
  }

  const files: Uint8Array[] = []
  for (const path of positionals) {
    try {
      files.push(new Uint8Array(await readFile(path)))
    } catch (e) {
      io.err(`error: cannot read ${path}: ${(e as Error).message}\n`)
      return 1
    }
  }

  const format = values.json === true ? (f: ConversationFrame) => JSON.stringify(toJson(f)) : toText
  const verify = values['no-crc'] !== true
  // Lines are written in batches: one write per frame would dominate on big captures.
  let lines: string[] = []
  const flush = (): void => {
    if (lines.length > 0) io.out(lines.join('\n') + '\n')
    lines = []
  }
  try {
    for (const f of decodeConversation(files[0], files[1], { crcHeader: verify, crcData: verify })) {
      lines.push(format(f))
      if (lines.length >= 512) flush()
    }
  } catch (e) {
    if (!(e instanceof ConversationError)) throw e
    flush()
    const { code, offset, message } = e.cause
    // ProtocolError's message starts with "CODE at offset N: "; print the rest after the side.
    const prefix = `${code} at offset ${offset}: `
    const detail = message.startsWith(prefix) ? message.slice(prefix.length) : message
    io.err(`error: ${code} at offset ${offset} (${e.from} stream): ${detail}\n`)
    return 1
  }
  flush()
  return 0
}
