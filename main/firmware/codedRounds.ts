import type { CampaignSend, CampaignState, CodingState, Target } from './campaign.js';
import { generationBlocks, SYMBOLS_PER_GENERATION } from './erasure.js';

/**
 * The repair rounds of an erasure-coded campaign (campaign.ts, issue 13): per generation, fresh repair
 * symbols for the largest need the meters reported, by multicast, every one useful to each meter still
 * short of that generation; a meter far behind the others gets its excess by unicast. Pure, like the engine.
 */

/** Key frames in round 1 of a coded campaign: at 10 % loss, one meter in 100,000 misses all of them. */
export const KEY_COPIES = 5;
/** Measured with bench:firmware (README): one more symbol than the largest need per generation and round. */
export const DEFAULT_REPAIR_MARGIN = 1;
/** a meter needing more than this many times what the runner-up needs (plus the margin) is served by unicast */
const FAR_BEHIND = 2;

/** Fresh repair symbols per generation for what meters reported needing; a meter that just gets the key needs everything. */
export function repairRound(state: CampaignState, coding: CodingState, waiting: readonly number[], needKey: readonly number[]): { coding: CodingState; sends: CampaignSend[] } {
  const { generationSize, margin } = coding;
  const repairSent = [...coding.repairSent];
  const sends: CampaignSend[] = [];
  const fresh = (generation: number, count: number, to: Target) => {
    for (let sent = 0; sent < count; sent++) {
      // past the index space the oldest symbols go again: still new to every meter that lost them
      const symbol = generationSize + (repairSent[generation]! % (SYMBOLS_PER_GENERATION - generationSize));
      repairSent[generation]!++;
      sends.push({ kind: 'repair', generation, symbol, to });
    }
  };
  const reporting = waiting.filter((id) => {
    const progress = state.meters[id]!;
    return progress.state === 'receiving' && progress.needs !== undefined && progress.silentRounds === 0;
  });
  repairSent.forEach((_, generation) => {
    const whole = generationBlocks(state.totalBlocks, generationSize, generation).count;
    const needs = [...needKey.map((id) => ({ id, need: whole })), ...reporting.map((id) => ({ id, need: state.meters[id]!.needs![generation] ?? 0 }))]
      .filter(({ need }) => need > 0)
      .sort((a, b) => b.need - a.need || a.id - b.id);
    if (needs.length === 0) return;
    const top = needs[0]!;
    if (needs.length === 1) return fresh(generation, top.need + margin, top.id);
    const runnerUp = needs[1]!.need + margin;
    if (top.need > FAR_BEHIND * runnerUp) {
      fresh(generation, runnerUp, 'all');
      fresh(generation, top.need + margin - runnerUp, top.id);
    } else fresh(generation, top.need + margin, 'all');
  });
  return { coding: { ...coding, repairSent }, sends };
}

/** The report's needs, if it fits the campaign's code: one count per generation, none above the generation's size. */
export function checkedNeeds(state: CampaignState, bytes: Uint8Array): number[] | undefined {
  const { coding } = state;
  if (!coding || bytes.length !== coding.repairSent.length) return undefined;
  const needs = [...bytes];
  return needs.every((need, generation) => need <= generationBlocks(state.totalBlocks, coding.generationSize, generation).count) ? needs : undefined;
}
