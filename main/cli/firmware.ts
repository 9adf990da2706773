import { z } from 'zod';
import type { CampaignSummary, CampaignView } from '../../preload/api.js';
import { fileArg } from '../files/fileArg.js';
import { type CampaignState, CHECK_CODES, readPublicKey } from '../firmware/index.js';
import { toHex } from '../grep/index.js';
import { escapeControl } from '../text/escape.js';
import { campaignSummary, campaignView, packageView } from '../ops/firmwareViews.js';
import { modelTrustViews } from '../ops/firmwareStaging.js';
import type { CampaignRecord, GroupRecord, KmStore } from '../store/index.js';
import { type GlobalArgs, integer, name, text } from './args.js';
import { groupName, withFirmware, withStore } from './context.js';
import { CliError, ExitCode } from './errors.js';
import { activate, cancel, onCampaign, pause, push, resume } from './firmwareCampaigns.js';
import { fileBytes, inspect, keygen, packCommand } from './firmwarePackageFiles.js';
import { campaignDetailText, campaignText, checksText, manifestText, modelTrustText, packageText, trustedKeysText, warningText } from './firmwareReport.js';
import { type Outcome, type Subcommand, subcommand } from './spec.js';

/*
 * grepctl fw (GREP.md §10). Package files: firmwarePackageFiles.ts; driving campaigns:
 * firmwareCampaigns.ts. Here the store's side: trust and stage (staging runs every check and keeps
 * nothing it refused), and the read-only packages and status.
 */

const publicKeyFile = fileArg(text, readPublicKey);

const trust = subcommand({
  words: ['fw', 'trust'],
  usage: '--key <pub file> --label <l>  |  --model <m> [--label <l>] <pub file>',
  summary:
    'trust a vendor/operator public key for staging firmware packages; with --model, also record that the meters of that model were provisioned to trust it ' +
    '(staging and push then refuse, for that model, a package signed by a key not recorded for it; --label is needed only for a key not yet trusted)',
  options: { key: { type: 'string' }, label: { type: 'string' }, model: { type: 'string' } },
  positional: { name: 'file', many: false },
  schema: z
    .object({ key: publicKeyFile.optional(), file: publicKeyFile.optional(), label: name.optional(), model: text.min(1, 'must not be empty').max(255).optional() })
    .superRefine((args, context) => {
      if ((args.key === undefined) === (args.file === undefined)) context.addIssue({ code: 'custom', path: ['key'], message: 'give the public key file once: --key <pub file> or as the argument' });
      if (args.model === undefined && args.label === undefined) context.addIssue({ code: 'custom', path: ['label'], message: 'is required (or --model, to record which model trusts a key already trusted)' });
    })
    .transform(({ key, file, label, model }) => ({ key: (key ?? file)!, label, model })),
  run: ({ key, label, model }, global) =>
    withFirmware(global, () => undefined, async ({ group, firmware }) => {
      const publicKey = toHex(key);
      if (model !== undefined) {
        const models = firmware.trustKeyForModel(model, key, label);
        const recorded = models.find((entry) => entry.model === model)!;
        const named = recorded.keys.find((entry) => entry.publicKey === publicKey)!.label;
        return { json: { group, model, trusted: firmware.trustedKeys(), models }, text: `meters of model ${escapeControl(model)} trust ${escapeControl(named)} (${publicKey}); staging trusts it too\n${modelTrustText([recorded])}` };
      }
      const trusted = firmware.trustKey(label!, key);
      // a key already trusted keeps the label it was first trusted under
      const kept = trusted.find((entry) => entry.publicKey === publicKey)?.label ?? label!;
      const said = `${kept === label ? 'trusted' : 'already trusted as'} ${escapeControl(kept)}`;
      return { json: { group, trusted }, text: `${said} (${publicKey}) for firmware packages\n${trustedKeysText(trusted)}` };
    }),
});

const models = subcommand({
  words: ['fw', 'models'],
  usage: '',
  summary: "each meter model of the group with the vendor keys its meters are recorded to trust (a model with none: staging warns instead of refusing)",
  schema: z.object({}),
  run: (_, global) =>
    inGroup(global, (store, group) => {
      const trust = modelTrustViews(store, group.id);
      return { json: { group: group.name, models: trust }, text: trust.length === 0 ? `group ${escapeControl(group.name)}: no members and no model trust recorded` : modelTrustText(trust) };
    }),
});

const stage = subcommand({
  words: ['fw', 'stage'],
  usage: '<pkg>',
  summary: "run every staging check (format, signature, size, digest, model, sequence, and trust: the model's meters are recorded to trust the signing key) and keep the package if none fails; exit 6 names the failed check",
  positional: { name: 'file', many: false },
  schema: z.object({ file: fileBytes('firmwarePackage') }),
  run: (args, global) =>
    withFirmware(global, () => undefined, async ({ group, firmware }) => {
      const view = firmware.stage(args.file);
      const checks = [checksText(view.checks), ...view.warnings.map(warningText)].join('\n');
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
  withStore(global, async (store) => read(store, store.group(groupName(store, global))), 'read');

const packages = subcommand({
  words: ['fw', 'packages'],
  usage: '',
  summary: 'the staged packages a campaign can push',
  schema: z.object({}),
  run: (_, global) =>
    inGroup(global, (store, group) => {
      const staged = store.firmware.packages(group.id).map(packageView);
      return { json: { group: group.name, packages: staged }, text: staged.length === 0 ? `group ${escapeControl(group.name)}: no staged packages` : staged.map(packageText).join('\n') };
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
      return { json: { group: group.name, campaigns }, text: campaigns.length === 0 ? `group ${escapeControl(group.name)}: no firmware campaigns` : campaigns.map(campaignText).join('\n') };
    }),
});

export const firmwareCommands: readonly Subcommand[] = [keygen, packCommand, inspect, trust, models, stage, packages, push, status, pause, resume, cancel, activate];
