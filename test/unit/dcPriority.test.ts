import { describe, expect, test } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { applyReport, type CampaignState, createCampaign, nextRound, removeMeter } from '../../main/firmware/campaign.js';
import { pack, parse } from '../../main/firmware/package.js';
import { kgFingerprint, seededRandom, toHex } from '../../main/grep/index.js';
import { Convergence, grepSource } from '../../main/ops/convergence.js';
import { DataConcentrator, frameClassOf, inProcessLink } from '../../sim/dc.js';
import { firmwareGroup } from '../../sim/firmwareGroup.js';

/**
 * The DC's QoS: an eviction during a firmware rollout. A whole round of block frames is queued at the DC
 * on a slow medium; the leave's messages handed to the DC afterwards go on the air after the block on the
 * air and before the rest of the round, and the campaign still completes.
 */

const crypto = nodeCrypto;
const MODEL = 'GX-310 three-phase';
const CAMPAIGN = 3;
const LATENCY = 0.02;
const EVICTED = 7;

/** `meters` meters on a 2,400 bit/s PLC medium, a 32 KiB image (128 blocks, about two minutes of airtime a round), behind a DC. */
function rollout(loss: number, meters = 24) {
  const random = seededRandom(21);
  const vendorKey = random(32);
  const pkg = parse(pack(crypto, random(32 * 1024), { vendor: 'Acme', model: MODEL, version: '2.0.0', sequence: 2 }, vendorKey));
  const fw = firmwareGroup({ seed: 21, meters, model: MODEL, factory: { running: { version: '1.0.0', sequence: 1 }, vendorKeys: [crypto.publicKey(vendorKey)] }, crypto, loss, rate: 2400, latency: LATENCY });
  const sealer = fw.sealer({ campaign: CAMPAIGN, pkg });
  const campaign = { state: createCampaign({ id: CAMPAIGN, totalBlocks: sealer.totalBlocks, meters: fw.members() }) };
  /** every meter's ack, as it makes it: (member, epoch) -> simulated time */
  const acks = new Map<string, number>();
  let driver: Convergence | undefined;
  const dc = new DataConcentrator({
    channel: fw.channel,
    meters: fw.fleet.meters,
    send: (message) => {
      if (message.kind === 'firmware') for (const report of message.reports) campaign.state = applyReport(campaign.state, report);
      driver?.hear(message);
    },
    onMeterReport: (report, time) => {
      const key = `${report.member}@${report.epoch}`;
      if (report.event === 'ack' && !acks.has(key)) acks.set(key, time);
    },
  });
  let transfer = 0;
  const hand = (to: 'all' | number, payload: Uint8Array) =>
    dc.handle(to === 'all' ? { kind: 'broadcast', transfer: ++transfer, payload } : { kind: 'unicast', transfer: ++transfer, member: to, payload });
  /** one campaign round handed to the DC at once, as the campaign service does; nothing is run */
  const sendRound = () => {
    const step = nextRound(campaign.state, fw.channel.clock.now());
    campaign.state = step.state;
    for (const send of step.sends) hand(send.to, sealer.frame(send, () => ({ epoch: fw.km.epoch, kg: fw.km.groupKey() })));
  };
  /** the round in flight and further rounds, each run to its end, until the distribution settles */
  const distribute = () => {
    dc.run();
    for (let round = 0; round < 20 && campaign.state.status === 'distributing'; round++) {
      sendRound();
      dc.run();
    }
  };
  return { fw, sealer, dc, campaign, acks, hand, sendRound, distribute, random, attach: (d: Convergence) => (driver = d) };
}


function everyMemberVerified(state: CampaignState, members: readonly number[]): boolean {
  return members.every((id) => state.meters[id]?.state === 'verified');
}

describe('control traffic before firmware frames at the DC', () => {
  test('firmware frames are bulk, GREP messages and commands control', () => {
    const { fw, sealer, random } = rollout(0);
    expect(frameClassOf(sealer.block(0))).toBe('bulk');
    expect(frameClassOf(sealer.key(fw.km.epoch, fw.km.groupKey()))).toBe('bulk');
    expect(frameClassOf(sealer.query(1))).toBe('bulk');
    for (const message of fw.km.remove([EVICTED], { suspected: false }, random).messages) expect(frameClassOf(message.bytes)).toBe('control');
  });

  test('a leave handed to the DC behind a queued round reaches every member in about its own airtime; the campaign still completes', () => {
    const { fw, sealer, dc, campaign, acks, hand, sendRound, distribute, random } = rollout(0);
    const { channel } = fw;
    sendRound();
    const frames = channel.queued;
    expect(frames).toBe(sealer.totalBlocks + 2); // key, blocks, query
    const blockAirtime = channel.airtimeOf(sealer.block(0).length);
    // mid-round: a block is on the air, about a hundred wait
    dc.advance(10.05);
    const start = channel.clock.now();
    const roundEnd = channel.idleAt;
    expect(roundEnd - start).toBeGreaterThan(100 * blockAirtime);
    // every meter on the medium, the one about to be evicted included
    const held = () => [...fw.fleet.meters.values()].map((meter) => meter.firmware.slot!.received);
    const heldAtStart = held();

    const leave = fw.km.remove([EVICTED], { suspected: false }, random).messages;
    for (const message of leave) hand(message.to, message.bytes);
    campaign.state = removeMeter(campaign.state, EVICTED);
    const rekeyAirtime = leave.reduce((sum, message) => sum + channel.airtimeOf(message.bytes.length), 0);
    const members = fw.members();
    const epoch = fw.km.epoch;
    const ackedAt = () => members.map((id) => acks.get(`${id}@${epoch}`));
    dc.runUntil(Number.POSITIVE_INFINITY, () => ackedAt().every((time) => time !== undefined));
    const converged = Math.max(...(ackedAt() as number[])) - start;
    // the rest of the block on the air, the leave's own frames, one latency; not the round
    expect(converged).toBeGreaterThan(rekeyAirtime);
    expect(converged).toBeLessThanOrEqual(blockAirtime + rekeyAirtime + LATENCY + 1e-9);
    expect(converged * 20).toBeLessThan(roundEnd - start);
    // the block on the air was not cut and no other went before the rekey
    expect(held()).toEqual(heldAtStart.map((held) => held + 1));
    expect(heldAtStart[0]).toBeGreaterThan(5);
    const expected = toHex(kgFingerprint(crypto, fw.km.groupKey()));
    expect(members.filter((id) => toHex(fw.fleet.get(id).fingerprint) !== expected)).toEqual([]);

    distribute();
    // the round finished, one leave's airtime later than it would have alone
    expect(channel.clock.now()).toBeGreaterThan(roundEnd + rekeyAirtime);
    expect(campaign.state.status).toBe('distributed');
    expect(everyMemberVerified(campaign.state, members)).toBe(true);
    expect(campaign.state.meters[EVICTED]).toMatchObject({ state: 'failed', reason: 'removed from the group' });
  });

  test('60 meters at 10 % loss: the convergence driver repairs the leave in seconds while the round waits, and the campaign completes', async () => {
    const { fw, sealer, dc, campaign, sendRound, distribute, random, attach } = rollout(0.1, 60);
    const { channel } = fw;
    sendRound();
    dc.advance(10.05);
    const roundEnd = channel.idleAt;
    const driver = attach(new Convergence(grepSource(fw.km), inProcessLink(dc, channel), { crypto, ackTimeout: 2 * LATENCY + 0.1 }));
    const executed = fw.km.remove([EVICTED], { suspected: false }, random);
    campaign.state = removeMeter(campaign.state, EVICTED);
    const start = channel.clock.now();
    const result = await driver.converge(executed);
    expect(result).toMatchObject({ converged: true, unreachable: [] });
    // a repair round was needed, and it too went ahead of the blocks: seconds, against two minutes of round
    expect(result.rounds).toBeGreaterThan(0);
    expect(result.rebroadcasts + result.replays + result.resyncs).toBeGreaterThan(0);
    expect(result.simSeconds * 10).toBeLessThan(roundEnd - start);
    const expected = toHex(kgFingerprint(crypto, fw.km.groupKey()));
    const members = fw.members();
    expect(members.filter((id) => toHex(fw.fleet.get(id).fingerprint) !== expected)).toEqual([]);
    expect(fw.fleet.get(1).firmware.slot!.received).toBeLessThan(sealer.totalBlocks);

    distribute();
    expect(campaign.state.status).toBe('distributed');
    expect(everyMemberVerified(campaign.state, members)).toBe(true);
  });
});
