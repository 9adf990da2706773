import { ByteReader, ByteWriter } from '../grep/bytes.js';
import { FINGERPRINT_BYTES, KEY_BYTES } from '../grep/crypto.js';
import { fail } from '../grep/errors.js';
import { checkU32 } from '../grep/wire.js';
import type { FirmwareReport } from '../firmware/campaign.js';
import { decodeFirmwareReport, encodeFirmwareReport } from '../firmware/report.js';

/**
 * What the Key Manager and the Data Concentrator say to each other once the session is up (GREP.md §9),
 * inside authenticated frames. The KM hands the DC messages to relay, each under a transfer id the DC
 * confirms once it holds the message; the KM resends what is unconfirmed after a reconnect, and the DC
 * drops a transfer id it already has, so nothing is lost and nothing is sent twice to the meters.
 * Holding a transfer is not sending it: on a slow, lossy medium a backlogged DC may keep a transfer
 * for minutes, so it says apart (`aired`) when each one has finished on the air.
 */
export type LinkMessage =
  | { readonly kind: 'broadcast'; readonly transfer: number; readonly payload: Uint8Array }
  | { readonly kind: 'unicast'; readonly transfer: number; readonly member: number; readonly payload: Uint8Array }
  /** the DC's copy of KG (§1: the DC is a group sender) */
  | { readonly kind: 'keyUpdate'; readonly transfer: number; readonly epoch: number; readonly kg: Uint8Array }
  /** DC -> KM: it holds the transfer and will put it on the medium */
  | { readonly kind: 'accepted'; readonly transfer: number }
  /** DC -> KM: meter acknowledgements and gap reports, batched */
  | { readonly kind: 'report'; readonly reports: readonly MeterReport[] }
  /** DC -> KM: meters' answers to firmware campaign frames, batched apart from the rekey reports */
  | { readonly kind: 'firmware'; readonly reports: readonly FirmwareReport[] }
  | { readonly kind: 'status'; readonly status: DcStatus }
  /**
   * DC -> KM: these transfers (the KM's ids) have finished on the medium, a unicast whether its meter got
   * it or not; `queued` frames, about `queuedSeconds` of airtime, still wait in the DC's queue. Batched
   * like the reports. A KM's wait for the meters' acks counts from here, not from `accepted`.
   */
  | { readonly kind: 'aired'; readonly transfers: readonly number[]; readonly queued: number; readonly queuedSeconds: number }
  | { readonly kind: 'error'; readonly code: number; readonly message: string };

export type LinkMessageKind = LinkMessage['kind'];
/** What the KM hands the DC to relay. */
export type Transfer = Extract<LinkMessage, { kind: 'broadcast' | 'unicast' | 'keyUpdate' }>;
/** What the DC tells the KM besides `accepted`: one list for the type and the check, so a new kind cannot reach one and not the other. */
const DC_REPORT_KINDS = ['report', 'firmware', 'status', 'aired', 'error'] as const satisfies readonly LinkMessageKind[];
export type DcReport = Extract<LinkMessage, { kind: (typeof DC_REPORT_KINDS)[number] }>;

export function isDcReport(message: LinkMessage): message is DcReport {
  return (DC_REPORT_KINDS as readonly LinkMessageKind[]).includes(message.kind);
}

/** A meter's (member id, epoch, 4-byte KG fingerprint) acknowledgement (§7), or its report of a gap. */
export interface MeterReport {
  readonly member: number;
  readonly epoch: number;
  readonly fingerprint: Uint8Array;
  /** 'ack': applied up to `epoch`; 'gap': saw a later epoch than it can apply; 'command': executed a group command */
  readonly event: 'ack' | 'gap' | 'command';
  /** for 'command': the command sequence number and the disconnector state after it (1 = closed) */
  readonly detail: number;
}

export interface DcStatus {
  readonly meters: number;
  /** transfers waiting for the medium */
  readonly queued: number;
  /** the DC's KG epoch */
  readonly epoch: number;
  /** seconds of airtime used since start (simulated or real) */
  readonly airtimeSeconds: number;
  /** seconds of airtime the queued transfers still need: the DC's backlog */
  readonly queuedSeconds: number;
}

const KIND_CODE: Record<LinkMessageKind, number> = {
  broadcast: 0x10,
  unicast: 0x11,
  keyUpdate: 0x12,
  accepted: 0x20,
  report: 0x21,
  status: 0x22,
  firmware: 0x23,
  aired: 0x24,
  error: 0x7f,
};
const KIND_OF = new Map(Object.entries(KIND_CODE).map(([kind, code]) => [code, kind as LinkMessageKind]));
const EVENTS = ['ack', 'gap', 'command'] as const;
/** one MeterReport on the wire: member, epoch, fingerprint, event, detail */
export const METER_REPORT_BYTES = 4 + 4 + FINGERPRINT_BYTES + 1 + 4;
const MAX_ERROR_TEXT = 1024;
/** what a u16 count can say */
const MAX_BATCH = 0xffff;

export function linkMessageCode(kind: LinkMessageKind): number {
  return KIND_CODE[kind];
}

/** DataView would wrap an out-of-range number silently: a wrapped transfer id would be accepted under another one. */
function checkFields(message: LinkMessage): void {
  if ('transfer' in message) checkU32(message.transfer, 'transfer id');
  if (message.kind === 'unicast') checkU32(message.member, 'member id');
  if (message.kind === 'keyUpdate') {
    checkU32(message.epoch, 'epoch');
    if (message.kg.length !== KEY_BYTES) fail('BAD_KEY', `KG must be ${KEY_BYTES} bytes`);
  }
  if (message.kind === 'report') {
    for (const r of message.reports) {
      checkU32(r.member, 'member id');
      checkU32(r.epoch, 'epoch');
      checkU32(r.detail, 'report detail');
      if (r.fingerprint.length !== FINGERPRINT_BYTES) fail('BAD_ARGUMENT', `a KG fingerprint is ${FINGERPRINT_BYTES} bytes`);
    }
  }
  if (message.kind === 'status') {
    for (const value of [message.status.meters, message.status.queued, message.status.epoch]) checkU32(value, 'status field');
    checkSeconds(message.status.airtimeSeconds, 'airtime', 'BAD_ARGUMENT');
    checkSeconds(message.status.queuedSeconds, 'queued airtime', 'BAD_ARGUMENT');
  }
  if (message.kind === 'aired') {
    for (const transfer of message.transfers) checkU32(transfer, 'transfer id');
    checkU32(message.queued, 'queued');
    checkSeconds(message.queuedSeconds, 'queued airtime', 'BAD_ARGUMENT');
  }
  if (message.kind === 'error' && (!Number.isInteger(message.code) || message.code < 0 || message.code > 0xffff)) fail('BAD_ARGUMENT', 'error code must fit 16 bits');
}

/** A NaN or negative count of seconds would make the KM's timing arithmetic silently wrong. */
function checkSeconds(value: number, what: string, code: 'BAD_ARGUMENT' | 'MALFORMED'): void {
  if (!Number.isFinite(value) || value < 0) fail(code, `${what} must be a finite non-negative number of seconds`);
}

function writeSeconds(writer: ByteWriter, seconds: number): ByteWriter {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, seconds);
  return writer.raw(new Uint8Array(view.buffer));
}

function readSeconds(reader: ByteReader, what: string): number {
  const seconds = new DataView(reader.raw(8, what).buffer).getFloat64(0);
  checkSeconds(seconds, what, 'MALFORMED');
  return seconds;
}

export function encodeLinkMessage(message: LinkMessage): Uint8Array {
  checkFields(message);
  const text = message.kind === 'error' ? new TextEncoder().encode(message.message).slice(0, MAX_ERROR_TEXT) : undefined;
  if ((message.kind === 'report' || message.kind === 'firmware') && message.reports.length > MAX_BATCH) fail('OVERSIZED', `at most ${MAX_BATCH} reports per frame`);
  if (message.kind === 'aired' && message.transfers.length > MAX_BATCH) fail('OVERSIZED', `at most ${MAX_BATCH} aired transfers per frame`);
  const firmware = message.kind === 'firmware' ? message.reports.map(encodeFirmwareReport) : undefined;
  const size = (() => {
    switch (message.kind) {
      case 'broadcast':
        return 1 + 4 + message.payload.length;
      case 'unicast':
        return 1 + 4 + 4 + message.payload.length;
      case 'keyUpdate':
        return 1 + 4 + 4 + KEY_BYTES;
      case 'accepted':
        return 1 + 4;
      case 'report':
        return 1 + 2 + message.reports.length * METER_REPORT_BYTES;
      case 'firmware':
        return 1 + 2 + firmware!.reduce((sum, report) => sum + 2 + report.length, 0);
      case 'status':
        return 1 + 4 + 4 + 4 + 8 + 8;
      case 'aired':
        return 1 + 2 + 4 * message.transfers.length + 4 + 8;
      case 'error':
        return 1 + 2 + 2 + text!.length;
    }
  })();
  const writer = new ByteWriter(size).u8(KIND_CODE[message.kind]);
  switch (message.kind) {
    case 'broadcast':
      return writer.u32(message.transfer).raw(message.payload).done();
    case 'unicast':
      return writer.u32(message.transfer).u32(message.member).raw(message.payload).done();
    case 'keyUpdate':
      return writer.u32(message.transfer).u32(message.epoch).raw(message.kg).done();
    case 'accepted':
      return writer.u32(message.transfer).done();
    case 'report':
      writer.u16(message.reports.length);
      for (const r of message.reports) writer.u32(r.member).u32(r.epoch).raw(r.fingerprint).u8(EVENTS.indexOf(r.event)).u32(r.detail);
      return writer.done();
    case 'firmware':
      writer.u16(firmware!.length);
      // a report's own length prefix keeps a bad one from shifting the reading of the next
      for (const report of firmware!) writer.u16(report.length).raw(report);
      return writer.done();
    case 'status': {
      const { meters, queued, epoch, airtimeSeconds, queuedSeconds } = message.status;
      return writeSeconds(writeSeconds(writer.u32(meters).u32(queued).u32(epoch), airtimeSeconds), queuedSeconds).done();
    }
    case 'aired':
      writer.u16(message.transfers.length);
      for (const transfer of message.transfers) writer.u32(transfer);
      return writeSeconds(writer.u32(message.queued), message.queuedSeconds).done();
    case 'error':
      return writer.u16(message.code).u16(text!.length).raw(text!).done();
  }
}

export function decodeLinkMessage(bytes: Uint8Array): LinkMessage {
  const reader = new ByteReader(bytes);
  const code = reader.u8('link message kind');
  const kind = KIND_OF.get(code);
  if (!kind) fail('UNKNOWN_TYPE', `unknown link message kind 0x${code.toString(16)}`);
  let message: LinkMessage;
  switch (kind) {
    case 'broadcast':
      message = { kind, transfer: reader.u32('transfer'), payload: reader.raw(reader.remaining, 'payload') };
      break;
    case 'unicast':
      message = { kind, transfer: reader.u32('transfer'), member: reader.u32('member'), payload: reader.raw(reader.remaining, 'payload') };
      break;
    case 'keyUpdate':
      message = { kind, transfer: reader.u32('transfer'), epoch: reader.u32('epoch'), kg: reader.raw(KEY_BYTES, 'KG') };
      break;
    case 'accepted':
      message = { kind, transfer: reader.u32('transfer') };
      break;
    case 'report': {
      const count = reader.u16('report count');
      const reports = Array.from({ length: count }, (): MeterReport => {
        const member = reader.u32('member');
        const epoch = reader.u32('epoch');
        const fingerprint = reader.raw(FINGERPRINT_BYTES, 'fingerprint');
        const event = EVENTS[reader.u8('event')];
        if (!event) fail('MALFORMED', 'unknown meter report event');
        return { member, epoch, fingerprint, event, detail: reader.u32('detail') };
      });
      message = { kind, reports };
      break;
    }
    case 'firmware': {
      const count = reader.u16('firmware report count');
      const reports = Array.from({ length: count }, () => decodeFirmwareReport(reader.raw(reader.u16('firmware report length'), 'firmware report')));
      message = { kind, reports };
      break;
    }
    case 'status': {
      const meters = reader.u32('meters');
      const queued = reader.u32('queued');
      const epoch = reader.u32('epoch');
      const airtimeSeconds = readSeconds(reader, 'airtime');
      message = { kind, status: { meters, queued, epoch, airtimeSeconds, queuedSeconds: readSeconds(reader, 'queued airtime') } };
      break;
    }
    case 'aired': {
      const count = reader.u16('aired count');
      const transfers = Array.from({ length: count }, () => reader.u32('transfer'));
      message = { kind, transfers, queued: reader.u32('queued'), queuedSeconds: readSeconds(reader, 'queued airtime') };
      break;
    }
    case 'error': {
      const errorCode = reader.u16('error code');
      const length = reader.u16('error text length');
      if (length > MAX_ERROR_TEXT) fail('OVERSIZED', 'error text too long');
      message = { kind, code: errorCode, message: new TextDecoder('utf-8', { fatal: false }).decode(reader.raw(length, 'error text')) };
      break;
    }
  }
  reader.end(`link ${kind}`);
  return message;
}
