import { z } from 'zod';
import type { CampaignSummary } from '../../preload/api.js';
import type { FirmwareService } from '../ops/firmware.js';
import { MAX_GENERATION_SIZE } from '../firmware/erasure.js';
import { type GlobalArgs, integer, meterIds, text } from './args.js';
import { type FirmwareSession, withFirmware } from './context.js';
import { ExitCode } from './errors.js';
import { campaignOutcome, campaignText, type Goal, progressPrinter } from './firmwareReport.js';
import { type Outcome, type Subcommand, subcommand } from './spec.js';
import { forTerminal, showAndConfirm } from './terminal.js';

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
  const progress = progressPrinter(() => id, (line) => process.stderr.write(forTerminal(line)));
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
  const refusal = await showAndConfirm(global, campaignText(campaign), question);
  return refusal === undefined ? undefined : { exitCode: ExitCode.notConfirmed, json: { group, campaign, confirmed: false, error: { code: 'NOT_CONFIRMED', message: refusal } }, text: refusal };
}

/** pause and cancel answer at once: no progress to print, the campaign as it then stands. */
const answerAtOnce = (global: GlobalArgs, step: (session: FirmwareSession) => Promise<Outcome>): Promise<Outcome> => withFirmware(global, () => undefined, step);

const asItStands = (group: string, campaign: CampaignSummary, extra: Record<string, unknown> = {}): Outcome => ({ json: { group, campaign, ...extra }, text: campaignText(campaign) });

export const onCampaign = { name: 'campaign', many: false } as const;
const campaignId = z.object({ campaign: integer(1, 0xffffffff) });
const DRIVEN_ON_OPEN: ReadonlySet<CampaignSummary['status']> = new Set(['created', 'distributing', 'activating']);

/** fw pause, resume, cancel and activate: the operator's steps on one campaign, named by its id. */
const campaignStep = (word: string, summary: string, run: (campaign: number, global: GlobalArgs) => Promise<Outcome>): Subcommand =>
  subcommand({ words: ['fw', word], usage: '<campaign>', summary, positional: onCampaign, schema: campaignId, run: (args, global) => run(args.campaign, global) });

export const push = subcommand({
  words: ['fw', 'push'],
  usage: '<pkgId> [--meters 1,2,3] [--block-size 256] [--generation 64]',
  summary: "start a campaign (default: every member of the package's model) and wait until every meter verified the image; --generation: the meters decode erasure-coded repair in generations of that many blocks",
  options: { meters: { type: 'string' }, 'block-size': { type: 'string' }, generation: { type: 'string' } },
  positional: { name: 'packageId', many: false },
  schema: z.object({
    packageId: integer(1, 0xffffffff),
    meters: text.transform((list) => [list]).pipe(meterIds).optional(),
    'block-size': integer(16, 1024).optional(),
    generation: integer(1, MAX_GENERATION_SIZE).optional(),
  }),
  run: (args, global) =>
    drive(global, async ({ connect, firmware }) => {
      // an unreachable DC fails here, before a campaign exists
      await connect();
      return firmware.push({ packageId: args.packageId, meters: args.meters, blockSize: args['block-size'], generationSize: args.generation });
    }),
});

export const pause = campaignStep('pause', 'stop sending a campaign; fw resume picks it up where it stopped', (id, global) =>
  answerAtOnce(global, async ({ group, firmware }) => asItStands(group, firmware.pause(id))),
);

export const resume = campaignStep('resume', 'drive a paused or interrupted campaign on, waiting as push or activate did', (id, global) =>
  drive(global, async ({ connect, firmware }) => {
    const { status } = firmware.campaign(id);
    await connect();
    // interrupted, not paused: the service took it up again when it opened
    return DRIVEN_ON_OPEN.has(status) ? firmware.campaign(id) : firmware.resume(id);
  }),
);

export const cancel = campaignStep('cancel', 'give a campaign up for good: nothing more is sent and it can never be activated (asks to confirm)', (id, global) =>
  answerAtOnce(global, async ({ group, firmware }) => {
    const refused = await confirmed(global, group, firmware.campaign(id), 'Cancelling cannot be undone: a new campaign would send the image again.');
    return refused ?? asItStands(group, firmware.cancel(id), { confirmed: true });
  }),
);

export const activate = campaignStep('activate', 'switch the verified meters to the new image (asks to confirm) and wait until every one runs it', (id, global) =>
  drive(global, async ({ group, connect, firmware }) => {
    const refused = await confirmed(global, group, firmware.campaign(id), 'The meters reboot into the new firmware.');
    if (refused) return refused;
    await connect();
    return firmware.activate(id);
  }),
);
