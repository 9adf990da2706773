import { fromHex, toHex } from '../grep/bytes.js';
import { missingIndices } from './bitmap.js';
import { firmwareFail } from './errors.js';
import { checkedNeeds, DEFAULT_REPAIR_MARGIN, KEY_COPIES, repairRound } from './codedRounds.js';
import { checkGenerationSize, generationCount } from './erasure.js';

/**
 * The campaign engine (GREP.md §10): a pure state machine over plain data, so the operations service
 * can store a campaign as JSON and resume it after a restart. It says what to send (CampaignSend:
 * indices and addressees, never bytes: blocks.ts seals them) and learns from meter reports; when to
 * start the next round (a timeout, or every queried meter has answered) is the driver's choice.
 *
 * Round 1 multicasts the key and every block once, then queries. Each later round re-sends only what
 * meters reported missing: a block several meters miss goes once by multicast, a block one meter misses
 * goes by unicast (one frame costs the same airtime whoever hears it), then queries again.
 *
 * A coded campaign (issue 13; erasure.ts) sends the key a few times in round 1, since a meter without
 * it can use nothing of the pass. Meters then report per generation how many more symbols they need,
 * whichever; each later round multicasts, per generation, the largest need plus a margin in fresh
 * repair symbols, every one useful to every meter still short of that generation. A meter far behind
 * the others gets its excess by unicast rather than making every meter hear it. The state records how
 * many repair symbols each generation has had, so a restarted campaign sends fresh ones.
 *
 * Removal: a meter removed from the group mid-campaign is marked failed and is addressed by nothing
 * afterwards. The guarantee is that and no more: K_fw was wrapped under the KG it held, so blocks it
 * overhears on the shared medium still open for it; a campaign started after its removal wraps a new
 * K_fw under a KG it never holds, and is unreadable to it.
 */

export type MeterState = 'pending' | 'receiving' | 'verified' | 'activated' | 'failed';

export interface MeterProgress {
  readonly state: MeterState;
  /** blocks held, of the campaign's totalBlocks */
  readonly received: number;
  /** hex missing-block bitmap from the meter's last 'receiving' report */
  readonly missing: string | undefined;
  readonly reason: string | undefined;
  /** the running version the meter reported after activation */
  readonly version: string | undefined;
  /** answered since the last round was sent */
  readonly answered: boolean;
  /** consecutive rounds without an answer */
  readonly silentRounds: number;
  /** 'no-key' answers so far: a meter that cannot open the key frame however often it gets it is failed */
  readonly keyMisses: number;
  /** coded campaigns: symbols still needed per generation, from the meter's last 'needs' report */
  readonly needs?: readonly number[];
}

export interface CodingState {
  readonly generationSize: number;
  /** extra repair symbols per generation and round, over the largest need */
  readonly margin: number;
  /** repair symbols sent so far per generation: the next fresh one is generationSize + sent */
  readonly repairSent: readonly number[];
}

export type CampaignStatus = 'created' | 'distributing' | 'paused' | 'distributed' | 'activating' | 'completed' | 'cancelled';

/** Why a campaign is paused, kept with it so the operator reads it on the campaign, after a restart too. */
export interface PauseNote {
  readonly by: 'operator' | 'driver';
  readonly reason: string;
  /** the driver resumes it by itself once the condition clears; otherwise only the operator does */
  readonly resumesItself: boolean;
  /** on the driver's clock */
  readonly at: number;
}

export interface CampaignState {
  readonly id: number;
  readonly totalBlocks: number;
  readonly status: CampaignStatus;
  /** what resume() returns to */
  readonly pausedFrom: 'distributing' | 'activating' | undefined;
  /** present while paused, when the pause said why */
  readonly pause?: PauseNote;
  readonly round: number;
  /** when the last round was sent, on the driver's clock: a restarted service knows how long it has waited */
  readonly roundSentAt: number;
  /** rounds a meter may stay silent before it is failed */
  readonly maxSilentRounds: number;
  /** by meter id (string keys: the state is JSON) */
  readonly meters: Readonly<Record<string, MeterProgress>>;
  /** present in an erasure-coded campaign */
  readonly coding?: CodingState;
}

export type Target = 'all' | number;

export type CampaignSend =
  | { readonly kind: 'key'; readonly to: Target }
  | { readonly kind: 'block'; readonly index: number; readonly to: Target }
  | { readonly kind: 'repair'; readonly generation: number; readonly symbol: number; readonly to: Target }
  | { readonly kind: 'query'; readonly round: number; readonly to: Target }
  | { readonly kind: 'activate'; readonly to: Target };

/** What a meter answers to a query or an activate frame. */
export type FirmwareReport = { readonly meter: number; readonly campaign: number } & (
  | { readonly status: 'no-key' }
  | { readonly status: 'receiving'; readonly missing: Uint8Array }
  /** coded campaigns: one byte per generation, the symbols still needed */
  | { readonly status: 'needs'; readonly needs: Uint8Array }
  | { readonly status: 'verified' }
  | { readonly status: 'failed'; readonly reason: string }
  | { readonly status: 'activated'; readonly version: string }
);

export interface Step {
  readonly state: CampaignState;
  readonly sends: readonly CampaignSend[];
}

const fresh: MeterProgress = { state: 'pending', received: 0, missing: undefined, reason: undefined, version: undefined, answered: false, silentRounds: 0, keyMisses: 0 };

export function createCampaign(options: {
  readonly id: number;
  readonly totalBlocks: number;
  readonly meters: readonly number[];
  readonly maxSilentRounds?: number;
  /** erasure-coded: the code's generation size (erasure.ts); absent: block repair */
  readonly generationSize?: number;
  readonly repairMargin?: number;
}): CampaignState {
  if (options.meters.length === 0) firmwareFail('BAD_ARGUMENT', 'a campaign needs at least one meter');
  if (!(options.totalBlocks >= 1)) firmwareFail('BAD_ARGUMENT', 'a campaign needs at least one block');
  const { generationSize, repairMargin = DEFAULT_REPAIR_MARGIN } = options;
  if (generationSize !== undefined) checkGenerationSize(generationSize);
  if (!Number.isInteger(repairMargin) || repairMargin < 0 || repairMargin > 64) firmwareFail('BAD_ARGUMENT', 'repair margin must be 0..64');
  const coding = generationSize === undefined ? undefined : { generationSize, margin: repairMargin, repairSent: new Array<number>(generationCount(options.totalBlocks, generationSize)).fill(0) };
  return {
    id: options.id,
    totalBlocks: options.totalBlocks,
    status: 'created',
    pausedFrom: undefined,
    round: 0,
    roundSentAt: 0,
    maxSilentRounds: options.maxSilentRounds ?? 6,
    meters: Object.fromEntries(options.meters.map((id) => [String(id), fresh])),
    ...(coding && { coding }),
  };
}

/** Meters the current phase still waits for. */
function outstanding(state: CampaignState): number[] {
  const waiting: MeterState[] = state.status === 'activating' ? ['verified'] : ['pending', 'receiving'];
  return Object.entries(state.meters)
    .filter(([, progress]) => waiting.includes(progress.state))
    .map(([id]) => Number(id));
}

/** Every meter the current round asked has answered: the driver need not wait out its timeout. */
export function roundAnswered(state: CampaignState): boolean {
  return outstanding(state).every((id) => state.meters[id]!.answered);
}

/** One frame to everyone who needs it: multicast when two or more do, else unicast. */
function addressed(needers: readonly number[], send: (to: Target) => CampaignSend): CampaignSend[] {
  if (needers.length >= 2) return [send('all')];
  return needers.map((id) => send(id));
}

function update(state: CampaignState, id: number, change: Partial<MeterProgress>): CampaignState {
  return { ...state, meters: { ...state.meters, [id]: { ...state.meters[id]!, ...change } } };
}

/** Fails meters silent for too long; marks the rest as not yet answered for the round about to go out. */
function closeRound(state: CampaignState): CampaignState {
  const meters: Record<string, MeterProgress> = { ...state.meters };
  for (const id of outstanding(state)) {
    const progress = meters[id]!;
    const silentRounds = progress.answered ? 0 : progress.silentRounds + 1;
    meters[id] =
      silentRounds > state.maxSilentRounds
        ? { ...progress, state: 'failed', reason: `no answer for ${silentRounds} rounds` }
        : { ...progress, answered: false, silentRounds };
  }
  return { ...state, meters };
}

/** The next round's frames; nothing while created-but-not-started, paused, finished or cancelled. */
export function nextRound(state: CampaignState, now: number): Step {
  if (state.status === 'created') {
    const all = Array.from({ length: state.totalBlocks }, (_, index): CampaignSend => ({ kind: 'block', index, to: 'all' }));
    const next = { ...state, status: 'distributing' as const, round: 1, roundSentAt: now };
    return { state: next, sends: [...keyCopies(state, [{ kind: 'key', to: 'all' }]), ...all, { kind: 'query', round: 1, to: 'all' }] };
  }
  if (state.status !== 'distributing' && state.status !== 'activating') return { state, sends: [] };
  const closed = closeRound(state);
  const waiting = outstanding(closed);
  if (waiting.length === 0) return { state: { ...closed, status: closed.status === 'activating' ? 'completed' : 'distributed' }, sends: [] };
  const round = closed.round + 1;
  const next = { ...closed, round, roundSentAt: now };
  if (closed.status === 'activating') return { state: next, sends: addressed(waiting, (to) => ({ kind: 'activate', to })) };

  // a meter that did not answer tells nothing: it is only asked again
  const needKey = waiting.filter((id) => closed.meters[id]!.state === 'pending' && closed.meters[id]!.silentRounds === 0);
  const needers = new Map<number, number[]>();
  const needs = (index: number, id: number) => {
    const list = needers.get(index);
    if (list) list.push(id);
    else needers.set(index, [id]);
  };
  if (!closed.coding) for (const id of needKey) for (let index = 0; index < closed.totalBlocks; index++) needs(index, id);
  for (const id of waiting) {
    const { missing, silentRounds, state: meterState } = closed.meters[id]!;
    if (meterState === 'receiving' && missing !== undefined && silentRounds === 0) {
      for (const index of missingIndices(fromHex(missing), closed.totalBlocks)) needs(index, id);
    }
  }
  const blocks = [...needers.entries()].sort(([a], [b]) => a - b).flatMap(([index, ids]) => addressed(ids, (to) => ({ kind: 'block', index, to })));
  const repair = closed.coding ? repairRound(closed, closed.coding, waiting, needKey) : { coding: undefined, sends: [] };
  const sends = [...keyCopies(closed, addressed(needKey, (to) => ({ kind: 'key', to }))), ...blocks, ...repair.sends, ...addressed(waiting, (to) => ({ kind: 'query', round, to }))];
  return { state: repair.coding ? { ...next, coding: repair.coding } : next, sends };
}

/** Key frames; a coded campaign repeats them, since the repair symbols after them serve only meters that hold the key. */
function keyCopies(state: CampaignState, keys: readonly CampaignSend[]): CampaignSend[] {
  return Array.from({ length: state.coding ? KEY_COPIES : 1 }, () => keys).flat();
}

/** A meter's answer. Reports of other campaigns, of meters not (or no longer) targeted, or after cancel change nothing. */
export function applyReport(state: CampaignState, report: FirmwareReport): CampaignState {
  const progress = state.meters[report.meter];
  if (report.campaign !== state.id || !progress || progress.state === 'failed') return state;
  // a switch command already with the DC when the campaign was cancelled may still switch a meter: what it runs is recorded
  if (state.status === 'cancelled' && report.status !== 'activated') return state;
  const heard = { answered: true, silentRounds: 0 };
  switch (report.status) {
    case 'no-key': {
      if (progress.state !== 'pending') return state;
      const keyMisses = progress.keyMisses + 1;
      // loss alone does not do this (the key is re-sent each round); a KG behind the KM's or a meter never commissioned does
      if (keyMisses > state.maxSilentRounds) return update(state, report.meter, { ...heard, keyMisses, state: 'failed', reason: `cannot open the key frame after ${keyMisses} rounds: its group key is not the current one (resync it) or it is not a member` });
      return update(state, report.meter, { ...heard, keyMisses });
    }
    case 'receiving': {
      if (progress.state !== 'pending' && progress.state !== 'receiving') return state;
      const missing = missingIndices(report.missing, state.totalBlocks).length;
      return update(state, report.meter, { ...heard, state: 'receiving', missing: toHex(report.missing), received: state.totalBlocks - missing });
    }
    case 'needs': {
      if (progress.state !== 'pending' && progress.state !== 'receiving') return state;
      const needs = checkedNeeds(state, report.needs);
      if (!needs) return state;
      return update(state, report.meter, { ...heard, state: 'receiving', needs, received: state.totalBlocks - needs.reduce((sum, need) => sum + need, 0) });
    }
    case 'verified':
      if (progress.state === 'activated') return state;
      return update(state, report.meter, { ...heard, state: 'verified', missing: undefined, needs: undefined, received: state.totalBlocks });
    case 'failed':
      return update(state, report.meter, { ...heard, state: 'failed', reason: report.reason, missing: undefined });
    case 'activated':
      return update(state, report.meter, { ...heard, state: 'activated', version: report.version, received: state.totalBlocks });
  }
}

export function pauseCampaign(state: CampaignState, note?: PauseNote): CampaignState {
  if (state.status !== 'distributing' && state.status !== 'activating') firmwareFail('CAMPAIGN_STATE', `a ${state.status} campaign cannot be paused`);
  return { ...state, status: 'paused', pausedFrom: state.status, ...(note && { pause: note }) };
}

/**
 * Picks up where it was: what meters last reported missing is still known, so the next round re-sends
 * it; time spent paused does not count as silence.
 */
export function resumeCampaign(state: CampaignState): CampaignState {
  if (state.status !== 'paused' || !state.pausedFrom) firmwareFail('CAMPAIGN_STATE', `a ${state.status} campaign cannot be resumed`);
  const meters = Object.fromEntries(Object.entries(state.meters).map(([id, progress]) => [id, { ...progress, silentRounds: 0, answered: progress.answered || progress.missing !== undefined || progress.needs !== undefined }]));
  const { pause: _cleared, ...rest } = state;
  return { ...rest, status: state.pausedFrom, pausedFrom: undefined, meters };
}

/**
 * Nothing more is sent; meters keep the partial image in their inactive slot, which is never activated.
 * Cancelled while activating: meters that switched keep running the new image and stay counted as
 * activated (applyReport records a late switch too); no further meter is told to switch.
 */
export function cancelCampaign(state: CampaignState): CampaignState {
  if (state.status === 'completed' || state.status === 'cancelled') firmwareFail('CAMPAIGN_STATE', `a ${state.status} campaign cannot be cancelled`);
  const { pause: _cleared, ...rest } = state;
  return { ...rest, status: 'cancelled', pausedFrom: undefined };
}

/** Activation on command, once distribution has settled: every verified meter switches slots. */
export function activateCampaign(state: CampaignState, now: number): Step {
  if (state.status !== 'distributed') firmwareFail('CAMPAIGN_STATE', `a ${state.status} campaign cannot be activated: distribution has not settled`);
  const verified = Object.entries(state.meters).filter(([, progress]) => progress.state === 'verified').map(([id]) => Number(id));
  if (verified.length === 0) firmwareFail('CAMPAIGN_STATE', 'no meter has verified the image');
  let next: CampaignState = { ...state, status: 'activating', round: state.round + 1, roundSentAt: now };
  for (const id of verified) next = update(next, id, { answered: false, silentRounds: 0 });
  return { state: next, sends: addressed(verified, (to) => ({ kind: 'activate', to })) };
}

/** A meter removed from the group: failed, and from now on addressed by nothing (see the module comment). */
export function removeMeter(state: CampaignState, meter: number): CampaignState {
  const progress = state.meters[meter];
  if (!progress || progress.state === 'failed' || progress.state === 'activated') return state;
  return update(state, meter, { state: 'failed', reason: 'removed from the group', missing: undefined });
}

/** Per-state counts, for the UI's campaign line. */
export function campaignCounts(state: CampaignState): Record<MeterState, number> {
  const counts: Record<MeterState, number> = { pending: 0, receiving: 0, verified: 0, activated: 0, failed: 0 };
  for (const progress of Object.values(state.meters)) counts[progress.state]++;
  return counts;
}
