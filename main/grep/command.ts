import { ByteReader, ByteWriter } from './bytes.js';
import { checkKey, type GrepCrypto, NONCE_BYTES, SIGNATURE_BYTES, SIGNING_KEY_BYTES, TAG_BYTES } from './crypto.js';
import { fail, GrepError, type GrepErrorCode } from './errors.js';
import { checkU32, HEADER_BYTES, PROTOCOL_VERSION, readHeader } from './wire.js';

/**
 * Group command (GREP.md §10), the seed's test case: open or close the disconnector of all meters or
 * of a list of them. Wire: header (16, as §8, subject 0) ‖ command seq (4) ‖ AEAD under KG of
 * (selector ‖ action) ‖ KM signature over everything before it.
 *
 * The seq travels in clear because it is part of the nonce and lets a meter drop a replay before any
 * decryption. The selector travels sealed: who is being disconnected is the operator's business.
 * Nonce = 0x40 ‖ epoch ‖ seq ‖ 0: the first byte is outside wire.ts's rekey type codes (1..14), so no
 * command ever shares a nonce with a rekey under the same KG (§8 "bulk traffic under KG uses its own
 * counter space"). The KM must never reuse a seq within an epoch; a resend of the same command with the
 * same seq is byte-identical, so it is harmless.
 */

/** Type byte of a command: must stay outside MESSAGE_TYPES' codes 1..14. */
export const COMMAND_TYPE_CODE = 0x40;
/** The meter report packs seq and disconnector state into one u32 (messages.ts `detail`). */
export const MAX_COMMAND_SEQ = 0x7fffffff;

export type DisconnectorAction = 'open' | 'close';
export type CommandSelector = 'all' | readonly number[];

export interface GroupCommand {
  /** strictly increasing per group; a meter executes only a seq above the last one it executed */
  readonly seq: number;
  readonly selector: CommandSelector;
  readonly action: DisconnectorAction;
}

/** What seals and signs a command: the group's current KG and epoch, and the KM's signing key. */
export interface CommandSealing {
  readonly groupId: number;
  readonly epoch: number;
  readonly kg: Uint8Array;
  readonly signingKey: Uint8Array;
}

const ACTIONS: readonly DisconnectorAction[] = ['open', 'close'];
const SELECT_ALL = 0;
const SELECT_LIST = 1;
const MAX_LISTED = 0xffff;
const SEQ_BYTES = 4;
const AAD_BYTES = HEADER_BYTES + SEQ_BYTES;

function commandNonce(epoch: number, seq: number): Uint8Array {
  return new ByteWriter(NONCE_BYTES).u8(COMMAND_TYPE_CODE).u32(epoch).u32(seq).u8(0).u16(0).done();
}

function checkSeq(seq: number): void {
  if (!Number.isInteger(seq) || seq < 1 || seq > MAX_COMMAND_SEQ) fail('BAD_ARGUMENT', `command seq must be an integer in 1..${MAX_COMMAND_SEQ}`);
}

function selectorBytes(selector: CommandSelector): number {
  return selector === 'all' ? 1 : 1 + 2 + 4 * selector.length;
}

export function encodeCommand(crypto: GrepCrypto, sealing: CommandSealing, command: GroupCommand): Uint8Array {
  checkU32(sealing.groupId, 'group id');
  checkU32(sealing.epoch, 'epoch');
  checkKey(sealing.kg, 'KG');
  checkKey(sealing.signingKey, 'KM signing key', SIGNING_KEY_BYTES);
  checkSeq(command.seq);
  if (!ACTIONS.includes(command.action)) fail('BAD_ARGUMENT', `unknown disconnector action ${String(command.action)}`);
  const { selector } = command;
  if (selector !== 'all') {
    if (selector.length === 0 || selector.length > MAX_LISTED) fail('BAD_ARGUMENT', `a command addresses 1..${MAX_LISTED} listed meters`);
    for (const id of selector) checkU32(id, 'meter id');
  }
  const plaintext = new ByteWriter(selectorBytes(selector) + 1);
  if (selector === 'all') plaintext.u8(SELECT_ALL);
  else {
    plaintext.u8(SELECT_LIST).u16(selector.length);
    for (const id of selector) plaintext.u32(id);
  }
  plaintext.u8(ACTIONS.indexOf(command.action));
  const aad = new ByteWriter(AAD_BYTES)
    .u8(PROTOCOL_VERSION)
    .u8(COMMAND_TYPE_CODE)
    .u16(0)
    .u32(sealing.groupId)
    .u32(sealing.epoch)
    .u32(0)
    .u32(command.seq)
    .done();
  const sealed = crypto.seal(sealing.kg, commandNonce(sealing.epoch, command.seq), plaintext.done(), aad);
  const signed = new ByteWriter(AAD_BYTES + sealed.length).raw(aad).raw(sealed).done();
  return new ByteWriter(signed.length + SIGNATURE_BYTES).raw(signed).raw(crypto.sign(sealing.signingKey, signed)).done();
}

/** A command as it stands on the medium: everything readable without KG. */
export interface CommandEnvelope {
  readonly groupId: number;
  readonly epoch: number;
  readonly seq: number;
  readonly aad: Uint8Array;
  readonly sealed: Uint8Array;
  readonly signed: Uint8Array;
  readonly signature: Uint8Array;
}

/** A meter shares one receiver with rekeys: the type byte tells a command from a GREP message. */
export function isCommand(bytes: Uint8Array): boolean {
  return bytes.length > 1 && bytes[1] === COMMAND_TYPE_CODE;
}

/** Structural decode: lengths and fixed fields are checked; nothing is verified or decrypted. */
export function decodeCommandEnvelope(bytes: Uint8Array): CommandEnvelope {
  const { reader, header } = readHeader(bytes, 'command');
  if (header.typeCode !== COMMAND_TYPE_CODE) fail('UNKNOWN_TYPE', `type ${header.typeCode} is not a group command`);
  if (header.flags !== 0) fail('MALFORMED', 'a command takes no flags');
  if (header.subject !== 0) fail('MALFORMED', 'a command has no subject');
  const { groupId, epoch } = header;
  const seq = reader.u32('command seq');
  if (seq === 0 || seq > MAX_COMMAND_SEQ) fail('MALFORMED', `command seq ${seq} is out of range`);
  const aad = reader.since(0).slice();
  const sealedLength = reader.remaining - SIGNATURE_BYTES;
  if (sealedLength < TAG_BYTES + 2) fail('TRUNCATED', 'command body is shorter than a selector, an action and a tag');
  const sealed = reader.raw(sealedLength, 'command body');
  const signed = reader.since(0).slice();
  const signature = reader.raw(SIGNATURE_BYTES, 'signature');
  reader.end('command');
  return { groupId, epoch, seq, aad, sealed, signed, signature };
}

function parseBody(seq: number, plaintext: Uint8Array): GroupCommand {
  const reader = new ByteReader(plaintext);
  const mode = reader.u8('selector');
  let selector: CommandSelector;
  if (mode === SELECT_ALL) selector = 'all';
  else if (mode === SELECT_LIST) {
    const count = reader.u16('selector count');
    if (count === 0) fail('MALFORMED', 'a listed selector names no meter');
    selector = Array.from({ length: count }, () => reader.u32('meter id'));
  } else fail('MALFORMED', `unknown selector ${mode}`);
  const action = ACTIONS[reader.u8('action')];
  if (action === undefined) fail('MALFORMED', 'unknown disconnector action');
  reader.end('command body');
  return { seq, selector, action };
}

/**
 * Verifies the KM signature, then opens the body under `kg`. Throws BAD_SIGNATURE for a forgery (an
 * insider holds KG and could seal one), DECRYPT_FAILED under any other group key, MALFORMED et al.
 */
export function decodeCommand(crypto: GrepCrypto, bytes: Uint8Array, keys: { readonly kmPublicKey: Uint8Array; readonly kg: Uint8Array }): GroupCommand {
  const envelope = decodeCommandEnvelope(bytes);
  return openEnvelope(crypto, envelope, keys.kmPublicKey, keys.kg);
}

function openEnvelope(crypto: GrepCrypto, envelope: CommandEnvelope, kmPublicKey: Uint8Array, kg: Uint8Array): GroupCommand {
  if (!crypto.verify(kmPublicKey, envelope.signed, envelope.signature)) fail('BAD_SIGNATURE', 'command is not signed by the Key Manager');
  const plaintext = crypto.open(kg, commandNonce(envelope.epoch, envelope.seq), envelope.sealed, envelope.aad);
  if (!plaintext) fail('DECRYPT_FAILED', 'command does not open under this group key');
  return parseBody(envelope.seq, plaintext);
}

/** What a meter knows when a command arrives. */
export interface CommandReceiver {
  readonly id: number;
  readonly groupId: number;
  readonly kmPublicKey: Uint8Array;
  readonly epoch: number;
  /** undefined before commissioning */
  readonly kg: Uint8Array | undefined;
  /** the last seq this meter executed (0: none) */
  readonly lastSeq: number;
}

export type CommandOutcome =
  | { readonly status: 'executed'; readonly command: GroupCommand }
  /**
   * the very command the meter executed last, sent again because its confirmation was lost: it is not
   * executed again, but confirmed again (authenticated first, so only a genuine frame draws a report)
   */
  | { readonly status: 'repeated'; readonly command: GroupCommand }
  /**
   * other-epoch: sealed under a KG this meter does not hold; a member evicted before the command is
   * always here. replayed: seq not above the last executed one. A retransmission of a command the
   * meter missed still runs, since only executed seqs count.
   */
  | { readonly status: 'ignored'; readonly reason: 'other-epoch' | 'replayed' | 'not-addressed' }
  | { readonly status: 'rejected'; readonly code: GrepErrorCode; readonly reason: string };

/** The meter's acceptance rule (§10). Never throws on bad input; the caller records lastSeq on 'executed'. */
export function acceptCommand(crypto: GrepCrypto, bytes: Uint8Array, receiver: CommandReceiver): CommandOutcome {
  let command: GroupCommand;
  try {
    const envelope = decodeCommandEnvelope(bytes);
    if (envelope.groupId !== receiver.groupId) return { status: 'rejected', code: 'WRONG_GROUP', reason: `command for group ${envelope.groupId}` };
    if (!receiver.kg || envelope.epoch !== receiver.epoch) return { status: 'ignored', reason: 'other-epoch' };
    if (envelope.seq < receiver.lastSeq) return { status: 'ignored', reason: 'replayed' };
    command = openEnvelope(crypto, envelope, receiver.kmPublicKey, receiver.kg);
  } catch (error) {
    if (error instanceof GrepError) return { status: 'rejected', code: error.code, reason: error.message };
    throw error;
  }
  if (command.selector !== 'all' && !command.selector.includes(receiver.id)) return { status: 'ignored', reason: 'not-addressed' };
  return { status: command.seq === receiver.lastSeq ? 'repeated' : 'executed', command };
}

/** MeterReport.detail of a 'command' event: seq and the disconnector state after it (1 = closed). */
export function commandDetail(seq: number, closed: boolean): number {
  checkSeq(seq);
  return seq * 2 + (closed ? 1 : 0);
}

export function readCommandDetail(detail: number): { readonly seq: number; readonly closed: boolean } {
  return { seq: Math.floor(detail / 2), closed: detail % 2 === 1 };
}
