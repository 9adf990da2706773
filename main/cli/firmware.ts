import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { z } from 'zod';
import type { CampaignSummary, CampaignView, PackageView } from '../../preload/api.js';
import { nodeCrypto, nodeRandom } from '../crypto/node.js';
import { type CampaignState, CHECK_CODES, FirmwareError, type FirmwarePackage, generateSigningKey, pack, parse, readPublicKey, readSigningKey, writeSigningKeyFiles } from '../firmware/index.js';
import { equalBytes, toHex } from '../grep/index.js';
import { campaignSummary, campaignView, manifestView as manifestOf } from '../ops/campaignDriver.js';
import type { FirmwareService } from '../ops/firmware.js';
import type { CampaignRecord, GroupRecord, KmStore } from '../store/index.js';
import { type GlobalArgs, integer, meterIds, name, text } from './args.js';
import { type FirmwareSession, groupName, withFirmware, withStore } from './context.js';
import { CliError, ExitCode } from './errors.js';
import { campaignDetailText, campaignOutcome, campaignText, checksText, described, describedText, type Goal, manifestText, packageText, progressPrinter, trustedKeysText } from './firmwareReport.js';
import { type Outcome, type Subcommand, subcommand } from './spec.js';
import { confirm, hasTerminal } from './terminal.js';

/*
 * Firmware packages (GREP.md §10): keygen, pack and inspect work on files alone, with no store and no
 * DC, so a vendor or an operator can make and check packages on a machine that never holds group
 * keys. trust and stage are the store's side: staging runs every check and keeps nothing it refused.
 */

function readable(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (error) {
    throw new CliError(ExitCode.badArguments, 'BAD_ARGUMENT', `cannot read ${path}: ${(error as Error).message}`);
  }
}

const fileBytes = text.transform((path, context) => {
  try {
    return readable(path);
  } catch (error) {
    context.addIssue({ code: 'custom', message: (error as Error).message });
    return z.NEVER;
  }
});

/** A key file through its reader (firmware/keys.ts): the refusal names the file, never its content. */
const keyFile = (read: (path: string) => Uint8Array) =>
  text.transform((path, context) => {
    try {
      return read(path);
    } catch (error) {
      context.addIssue({ code: 'custom', message: error instanceof FirmwareError ? error.message : `cannot read ${path}: ${(error as Error).message}` });
      return z.NEVER;
    }
  });

const newFile = (what: string) => text.min(1, 'must not be empty').refine((path) => !existsSync(path), `exists already: ${what} is never overwritten`);

const output = { type: 'string', short: 'o' } as const;

const keygen = subcommand({
  words: ['fw', 'keygen'],
  usage: '-o <base>',
  summary: 'a new firmware signing key pair: <base>.key (secret, owner-only) and <base>.pub (for fw trust); never overwrites',
  options: { output },
  schema: z.object({
    output: text.min(1, 'must not be empty').superRefine((base, context) => {
      for (const path of [`${base}.key`, `${base}.pub`]) if (existsSync(path)) context.addIssue({ code: 'custom', message: `${path} exists already: a signing key is never overwritten` });
    }),
  }),
  async run(args) {
    const pair = generateSigningKey(nodeCrypto, nodeRandom);
    const { secretPath, publicPath } = writeSigningKeyFiles(args.output, pair);
    const publicKey = toHex(pair.publicKey);
    return {
      json: { secretKeyFile: secretPath, publicKeyFile: publicPath, publicKey },
      text: `wrote ${secretPath} (the signing key: owner-only, keep it off the Key Manager) and ${publicPath}\npublic key ${publicKey}\nthe Key Manager trusts it with: grepctl fw trust --key ${publicPath} --label <name>`,
    };
  },
});

const packCommand = subcommand({
  words: ['fw', 'pack'],
  usage: '--image <bin> --model <m> --version <v> --seq <n> --key <signing key> [--vendor <name>] -o <pkg>',
  summary: 'sign an image into a firmware package; --seq must rise with every release of a model (meters refuse a rollback)',
  options: { image: { type: 'string' }, model: { type: 'string' }, version: { type: 'string' }, seq: { type: 'string' }, key: { type: 'string' }, vendor: { type: 'string' }, output },
  schema: z.object({
    image: fileBytes,
    model: text,
    version: text,
    seq: integer(1, 0xffffffff),
    key: keyFile(readSigningKey),
    vendor: text.default('operator'),
    output: newFile('a package'),
  }),
  async run(args) {
    const bytes = pack(nodeCrypto, args.image, { vendor: args.vendor, model: args.model, version: args.version, sequence: args.seq }, args.key);
    writeFileSync(args.output, bytes, { flag: 'wx' });
    const info = described(args.output, bytes, parse(bytes));
    const signer = toHex(nodeCrypto.publicKey(args.key));
    return { json: { ...info, signer }, text: `wrote ${describedText(info)}\n  signed by ${signer}` };
  },
});

const inspect = subcommand({
  words: ['fw', 'inspect'],
  usage: '<pkg>',
  summary: 'show a package file: manifest, sizes, digests (no store, no trust); exit 6 if it is unreadable or its image does not match the manifest',
  positional: { name: 'file', many: false },
  schema: z.object({ file: text }),
  async run({ file }) {
    const bytes = readable(file);
    let pkg: FirmwarePackage;
    try {
      pkg = parse(bytes);
    } catch (error) {
      if (!(error instanceof FirmwareError)) throw error;
      throw new CliError(ExitCode.badPackage, error.code, `${file} is not a readable firmware package: ${error.message}`);
    }
    const info = described(file, bytes, pkg);
    const problems = [
      ...(pkg.manifest.size === pkg.image.length ? [] : [`the manifest says ${pkg.manifest.size} B, the image has ${pkg.image.length} B`]),
      ...(equalBytes(nodeCrypto.sha256(pkg.image), pkg.manifest.digest) ? [] : ['the image SHA-256 differs from the manifest']),
    ];
    const verdict = problems.length === 0 ? '  image matches the manifest (size, SHA-256); the signature is checked by fw stage' : `  CORRUPT: ${problems.join('; ')}`;
    return { exitCode: problems.length === 0 ? ExitCode.ok : ExitCode.badPackage, json: { ...info, intact: problems.length === 0, problems }, text: `${describedText(info)}\n${verdict}` };
  },
});

const ignore = () => undefined;
const onCampaign = { name: 'campaign', many: false } as const;

const trust = subcommand({
  words: ['fw', 'trust'],
  usage: '--key <pub file> --label <l>',
  summary: 'trust a vendor/operator public key for staging firmware packages',
  options: { key: { type: 'string' }, label: { type: 'string' } },
  schema: z.object({ key: keyFile(readPublicKey), label: name }),
  run: (args, global) =>
    withFirmware(global, ignore, async ({ group, firmware }) => {
      const trusted = firmware.trustKey(args.label, args.key);
      const publicKey = toHex(args.key);
      // a key already trusted keeps the label it was first trusted under
      const label = trusted.find((key) => key.publicKey === publicKey)?.label ?? args.label;
      const said = label === args.label ? `trusted ${label}` : `already trusted as ${label}`;
      return { json: { group, trusted }, text: `${said} (${publicKey}) for firmware packages\n${trustedKeysText(trusted)}` };
    }),
});

const stage = subcommand({
  words: ['fw', 'stage'],
  usage: '<pkg>',
  summary: 'run every staging check (format, signature, size, digest, model, sequence) and keep the package if all pass; exit 6 names the failed check',
  positional: { name: 'file', many: false },
  schema: z.object({ file: fileBytes }),
  run: (args, global) =>
    withFirmware(global, ignore, async ({ group, firmware }) => {
      const view = firmware.stage(args.file);
      const checks = checksText(view.checks);
      if (view.staged) return { json: { group, ...view }, text: `staged ${packageText(view.staged)}\n${checks}` };
      const failed = view.checks.find((check) => check.status === 'failed');
      const message = `${failed ? `${failed.check} check failed: ${failed.detail}` : 'refused'}: nothing was staged`;
      const manifest = view.manifest ? manifestText(view.manifest) : 'unreadable package';
      return {
        exitCode: ExitCode.badPackage,
        json: { group, ...view, staged: null, error: { code: failed ? CHECK_CODES[failed.check] : 'REFUSED', check: failed?.check ?? null, message } },
        text: `REFUSED ${manifest}\n${checks}\n${message}`,
      };
    }),
});

/*
 * packages and status read the store, as grepctl status does: opening the service would take every
 * open campaign up again and queue its round for sending, which a look must not do (nor need the DC).
 */
const inGroup = (global: GlobalArgs, read: (store: KmStore, group: GroupRecord) => Outcome): Promise<Outcome> =>
  withStore(global, async (store) => read(store, store.group(groupName(store, global))));

const packages = subcommand({
  words: ['fw', 'packages'],
  usage: '',
  summary: 'the staged packages a campaign can push',
  schema: z.object({}),
  run: (_, global) =>
    inGroup(global, (store, group) => {
      const staged = store.firmware.packages(group.id).map((record): PackageView => ({ id: record.id, manifest: manifestOf(record), packageDigest: record.packageDigest, stagedAt: record.stagedAt }));
      return { json: { group: group.name, packages: staged }, text: staged.length === 0 ? `group ${group.name}: no staged packages` : staged.map(packageText).join('\n') };
    }),
});

function storedCampaign(store: KmStore, group: GroupRecord, row: CampaignRecord): CampaignView {
  const state = JSON.parse(row.state) as CampaignState;
  return campaignView(campaignSummary(store.firmware.package(group.id, row.packageId)!, state, row), state);
}

const status = subcommand({
  words: ['fw', 'status'],
  usage: '[<campaign>]',
  summary: 'every campaign with its meter counts, or one campaign meter by meter (the DC may be down)',
  positional: onCampaign,
  schema: z.object({ campaign: integer(1, 0xffffffff).optional() }),
  run: (args, global) =>
    inGroup(global, (store, group) => {
      if (args.campaign !== undefined) {
        const row = store.firmware.campaign(group.id, args.campaign);
        if (!row) throw new CliError(ExitCode.badArguments, 'UNKNOWN_CAMPAIGN', `<campaign>: no firmware campaign ${args.campaign} for group ${group.name}`);
        const campaign = storedCampaign(store, group, row);
        return { json: { group: group.name, campaign }, text: campaignDetailText(campaign) };
      }
      const campaigns = store.firmware.campaigns(group.id).map((row): CampaignSummary => {
        const { perMeter: _, ...summary } = storedCampaign(store, group, row);
        return summary;
      });
      return { json: { group: group.name, campaigns }, text: campaigns.length === 0 ? `group ${group.name}: no firmware campaigns` : campaigns.map(campaignText).join('\n') };
    }),
});

/*
 * Campaigns. The service drives a campaign only while a process holds it open, so push, resume and
 * activate wait until it settles, printing progress on stderr; every step is stored as it happens,
 * so Ctrl-C or --timeout only stop the waiting: the campaign is where fw status says, and fw resume
 * drives it on from there.
 */

const SIGNALS = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

/** settled() or a signal, whichever comes first. */
async function settledOrInterrupted(firmware: FirmwareService, id: number, seconds: number): Promise<boolean> {
  let interrupt!: () => void;
  const interrupted = new Promise<boolean>((resolve) => {
    interrupt = () => resolve(true);
  });
  for (const signal of SIGNALS) process.on(signal, interrupt);
  try {
    const settling = firmware.settled(id, seconds).then(() => false);
    // if a signal wins, a late failure of settled() has no one left to tell
    settling.catch(() => undefined);
    return await Promise.race([settling, interrupted]);
  } finally {
    for (const signal of SIGNALS) process.off(signal, interrupt);
  }
}

/** Opens the service, lets `begin` start (or refuse), then waits for the goal with progress on stderr. */
function drive(global: GlobalArgs, begin: (session: FirmwareSession) => Promise<CampaignSummary | Outcome>): Promise<Outcome> {
  let id: number | undefined;
  const progress = progressPrinter(() => id, (line) => process.stderr.write(line));
  return withFirmware(global, progress, async (session) => {
    const started = await begin(session);
    // an Outcome: the operator did not confirm
    if (!('status' in started)) return started;
    id = started.id;
    progress(started);
    const goal: Goal = started.status === 'activating' || started.status === 'completed' ? 'completed' : 'distributed';
    const interrupted = await settledOrInterrupted(session.firmware, started.id, global.timeout);
    return campaignOutcome(session.group, session.firmware.campaign(started.id), goal, interrupted, global.timeout);
  });
}

/** What the operator confirms: the campaign as it stands, then the question (as operations do with their plan). */
async function confirmed(global: GlobalArgs, group: string, campaign: CampaignSummary, question: string): Promise<Outcome | undefined> {
  const shown = campaignText(campaign);
  if (!global.json) process.stdout.write(`${shown}\n`);
  else if (!global.yes && hasTerminal()) process.stderr.write(`${shown}\n`);
  const refusal = await confirm(question, global.yes);
  return refusal === undefined ? undefined : { exitCode: ExitCode.notConfirmed, json: { group, campaign, confirmed: false, error: { code: 'NOT_CONFIRMED', message: refusal } }, text: refusal };
}

const campaignId = z.object({ campaign: integer(1, 0xffffffff) });
const DRIVEN_ON_OPEN: ReadonlySet<CampaignSummary['status']> = new Set(['created', 'distributing', 'activating']);

const push = subcommand({
  words: ['fw', 'push'],
  usage: '<pkgId> [--meters 1,2,3] [--block-size 256]',
  summary: "start a campaign (default: every member of the package's model) and wait until every meter verified the image",
  options: { meters: { type: 'string' }, 'block-size': { type: 'string' } },
  positional: { name: 'packageId', many: false },
  schema: z.object({ packageId: integer(1, 0xffffffff), meters: text.transform((list) => [list]).pipe(meterIds).optional(), 'block-size': integer(16, 1024).optional() }),
  run: (args, global) =>
    drive(global, async ({ connect, firmware }) => {
      // an unreachable DC fails here, before a campaign exists
      await connect();
      return firmware.push({ packageId: args.packageId, meters: args.meters, blockSize: args['block-size'] });
    }),
});

const pause = subcommand({
  words: ['fw', 'pause'],
  usage: '<campaign>',
  summary: 'stop sending a campaign; fw resume picks it up where it stopped',
  positional: onCampaign,
  schema: campaignId,
  run: (args, global) =>
    withFirmware(global, ignore, async ({ group, firmware }) => {
      const campaign = firmware.pause(args.campaign);
      return { json: { group, campaign }, text: campaignText(campaign) };
    }),
});

const resume = subcommand({
  words: ['fw', 'resume'],
  usage: '<campaign>',
  summary: 'drive a paused or interrupted campaign on, waiting as push or activate did',
  positional: onCampaign,
  schema: campaignId,
  run: (args, global) =>
    drive(global, async ({ connect, firmware }) => {
      const { status } = firmware.campaign(args.campaign);
      await connect();
      // interrupted, not paused: the service took it up again when it opened
      return DRIVEN_ON_OPEN.has(status) ? firmware.campaign(args.campaign) : firmware.resume(args.campaign);
    }),
});

const cancel = subcommand({
  words: ['fw', 'cancel'],
  usage: '<campaign>',
  summary: 'give a campaign up for good: nothing more is sent and it can never be activated (asks to confirm)',
  positional: onCampaign,
  schema: campaignId,
  run: (args, global) =>
    withFirmware(global, ignore, async ({ group, firmware }) => {
      const refused = await confirmed(global, group, firmware.campaign(args.campaign), 'Cancelling cannot be undone: a new campaign would send the image again.');
      if (refused) return refused;
      const campaign = firmware.cancel(args.campaign);
      return { json: { group, campaign, confirmed: true }, text: campaignText(campaign) };
    }),
});

const activate = subcommand({
  words: ['fw', 'activate'],
  usage: '<campaign>',
  summary: 'switch the verified meters to the new image (asks to confirm) and wait until every one runs it',
  positional: onCampaign,
  schema: campaignId,
  run: (args, global) =>
    drive(global, async ({ group, connect, firmware }) => {
      const refused = await confirmed(global, group, firmware.campaign(args.campaign), 'The meters reboot into the new firmware.');
      if (refused) return refused;
      await connect();
      return firmware.activate(args.campaign);
    }),
});

export const firmwareCommands: readonly Subcommand[] = [keygen, packCommand, inspect, trust, stage, packages, push, status, pause, resume, cancel, activate];
