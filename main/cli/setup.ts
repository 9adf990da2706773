import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { z } from 'zod';
import { fileArg } from '../files/fileArg.js';
import { readKeyFile } from '../files/keyFile.js';
import { toHex } from '../grep/index.js';
import { DEFAULT_BAUD_RATE, DEFAULT_TCP_PORT } from '../link/transport.js';
import { KeyManagerService } from '../ops/service.js';
import { type DcProfile, KmStore } from '../store/index.js';
import { escapeControl } from '../text/escape.js';
import { integer, name, text } from './args.js';
import { actor, dcAddress, groupIds, groupName, storePath, withStore } from './context.js';
import { CliError, ExitCode } from './errors.js';
import { type Subcommand, subcommand } from './spec.js';
import { passphrase } from './terminal.js';

/** Setting a Key Manager up: the store, a group with its KM key pair, the DC it reaches the meters through. */

/** Enough of SHA-256 to tell two pairing keys apart on screen without showing either. */
const fingerprint = (key: Uint8Array) => createHash('sha256').update(key).digest('hex').slice(0, 16);

const init = subcommand({
  words: ['init'],
  usage: '--db <file>',
  summary: 'create a new store, sealed under a passphrase (GREP_PASSPHRASE, or asked twice)',
  schema: z.object({}),
  async run(_, global) {
    const path = storePath(global);
    // an existing file may be the only copy of a group's keys
    if (existsSync(path)) throw new CliError(ExitCode.store, 'STORE_EXISTS', `${path} already exists: init never overwrites a store`);
    const store = KmStore.create(path, await passphrase('GREP_PASSPHRASE', 'new store passphrase', true));
    try {
      store.transaction(() => store.audit(actor, 'init store', { path }));
    } finally {
      store.close();
    }
    return { json: { store: path }, text: `created ${path}\nkeep its passphrase safe: without it the group keys cannot be opened` };
  },
});

const groupCreate = subcommand({
  words: ['group', 'create'],
  usage: '--name <n> --planned-size <n> [--id <n>]',
  summary: 'create a group with a fresh KM key pair; prints the public key the meters are commissioned with',
  options: { name: { type: 'string' }, 'planned-size': { type: 'string' }, id: { type: 'string' } },
  schema: z.object({ name, 'planned-size': integer(1, 10_000_000), id: integer(0, 0xffffffff).optional() }),
  run: (args, global) =>
    withStore(global, async (store) => {
      const taken = groupIds(store);
      const id = args.id ?? Math.max(0, ...taken) + 1;
      if (taken.includes(id)) throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', `--id: the store already has group ${id}`);
      if (store.db.prepare('SELECT 1 FROM groups WHERE name = ?').get(args.name)) throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', `--name: the store already has a group named ${JSON.stringify(args.name)}`);
      const group = KeyManagerService.createGroup(store, { id, name: args.name, plannedSize: args['planned-size'] }, actor);
      const kmPublicKey = toHex(group.publicKey);
      return {
        json: { group: group.name, id: group.id, subgroupCap: group.subgroupCap, epoch: group.epoch, kmPublicKey },
        text: `group ${escapeControl(group.name)} (GREP group id ${group.id}, subgroups of ${group.subgroupCap}) at epoch ${group.epoch}\nKM public key (commission the meters with it):\n${kmPublicKey}`,
      };
    }),
});

const groupBind = subcommand({
  words: ['group', 'bind'],
  usage: '--dc <profile> [--group <n>]',
  summary: 'bind the group to the DC its meters sit behind: its commands then use that DC without --dc',
  schema: z.object({}),
  run: (_, global) =>
    withStore(global, async (store) => {
      const dc = global.dc;
      if (dc === undefined) throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', '--dc: name the DC profile the group is bound to');
      const group = groupName(store, global);
      store.transaction(() => {
        store.bindGroupDc(group, dc);
        store.audit(actor, 'bind group to DC', { group, dc });
      });
      return { json: { group, dc }, text: `group ${escapeControl(group)} is bound to DC ${escapeControl(dc)}` };
    }),
});

const hostPort = text.regex(/^[^:\s]+(:\d{1,5})?$/, 'expected host:port, e.g. 127.0.0.1:4059').transform((value, context) => {
  const [host, port] = value.split(':') as [string, string | undefined];
  const number = port === undefined ? DEFAULT_TCP_PORT : Number(port);
  if (number < 1 || number > 65_535) context.addIssue({ code: 'custom', message: 'port must be in 1..65535' });
  return { host, port: number };
});

const dcAdd = subcommand({
  words: ['dc', 'add'],
  usage: '--name <n> (--tcp host:port | --serial <path> [--baud n]) --pairing-key <file>',
  summary: 'save (or replace) a DC profile; the pairing key file holds 16 or 32 bytes as hex (bare, or typed GREP DC PAIRING KEY)',
  options: { name: { type: 'string' }, tcp: { type: 'string' }, serial: { type: 'string' }, baud: { type: 'string' }, 'pairing-key': { type: 'string' } },
  schema: z
    .object({ name, tcp: hostPort.optional(), serial: text.min(1).optional(), baud: integer(50, 4_000_000).optional(), 'pairing-key': fileArg(text, (path) => readKeyFile(path, 'pairing')) })
    .superRefine((args, context) => {
      if ((args.tcp === undefined) === (args.serial === undefined)) context.addIssue({ code: 'custom', path: ['tcp'], message: 'give either --tcp host:port or --serial <path>' });
      if (args.baud !== undefined && args.serial === undefined) context.addIssue({ code: 'custom', path: ['baud'], message: 'a baud rate is for --serial only' });
    }),
  run: (args, global) =>
    withStore(global, async (store) => {
      const pairingKey = args['pairing-key'];
      const profile: DcProfile = args.tcp
        ? { name: args.name, transport: 'tcp', host: args.tcp.host, port: args.tcp.port, pairingKey }
        : { name: args.name, transport: 'serial', path: args.serial!, baud: args.baud ?? DEFAULT_BAUD_RATE, pairingKey };
      const replaced = store.dcProfile(args.name) !== undefined;
      const detail = { dc: profile.name, address: dcAddress(profile), pairingKeyFingerprint: fingerprint(pairingKey) };
      store.transaction(() => {
        store.saveDcProfile(profile);
        store.audit(actor, replaced ? 'replace dc' : 'add dc', detail);
      });
      return { json: { ...detail, replaced }, text: `${replaced ? 'replaced' : 'added'} DC ${escapeControl(profile.name)}: ${escapeControl(detail.address)}, pairing key fingerprint ${detail.pairingKeyFingerprint}` };
    }),
});

export const setupCommands: readonly Subcommand[] = [init, groupCreate, groupBind, dcAdd];
