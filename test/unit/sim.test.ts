import { describe, expect, test } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { missingBitmap } from '../../main/firmware/bitmap.js';
import type { FirmwareReport } from '../../main/firmware/campaign.js';
import { pack, parse } from '../../main/firmware/package.js';
import { encodeCommand, readCommandDetail } from '../../main/grep/command.js';
import { KeyManager, seededRandom, toHex } from '../../main/grep/index.js';
import { encodeLinkMessage, type LinkMessage, type MeterReport } from '../../main/link/messages.js';
import { Channel, type ChannelConfig } from '../../sim/channel.js';
import { DataConcentrator, DcError } from '../../sim/dc.js';
import { firmwareGroup } from '../../sim/firmwareGroup.js';
import { Fleet, meterProfiles } from '../../sim/fleet.js';
import { isFirmwareReport } from '../../sim/meter.js';

const crypto = nodeCrypto;
const simulated = (overrides: Partial<ChannelConfig> = {}) =>
  new Channel({ bitRate: 8000, latency: 0.01, loss: 0, seed: 1, clock: 'simulated', ...overrides });

/** Which of `listeners` hear each of `frames` broadcasts, as a fingerprint of the loss stream. */
function hearing(channel: Channel, frames: number, listeners: number[]): number[][] {
  const heard: number[][] = [];
  for (let frame = 0; frame < frames; frame++) channel.broadcast(10, listeners, (received) => heard.push([...received]));
  channel.simulated.run();
  return heard;
}

describe('channel', () => {
  test('the same seed loses the same frames; another seed does not', () => {
    const listeners = Array.from({ length: 50 }, (_, index) => index + 1);
    const first = hearing(simulated({ loss: 0.3, seed: 7 }), 20, listeners);
    expect(hearing(simulated({ loss: 0.3, seed: 7 }), 20, listeners)).toEqual(first);
    expect(hearing(simulated({ loss: 0.3, seed: 8 }), 20, listeners)).not.toEqual(first);
    const lost = first.reduce((sum, received) => sum + listeners.length - received.length, 0);
    // 1,000 deliveries at 30 % loss
    expect(lost).toBeGreaterThan(240);
    expect(lost).toBeLessThan(360);
  });

  test('airtime: a broadcast costs one frame whoever listens, each unicast its own, frames queue one after another', () => {
    const channel = simulated();
    const arrivals: [string, number][] = [];
    const at = (what: string) => () => arrivals.push([what, channel.clock.now()]);
    // 100 bytes at 8,000 bit/s = 0.1 s on the air, then 0.01 s latency
    channel.broadcast(100, Array.from({ length: 1000 }, (_, index) => index), at('broadcast'));
    channel.unicast(100, 1, at('unicast 1'));
    channel.unicast(100, 2, at('unicast 2'));
    expect(channel.airtimeSeconds).toBeCloseTo(0.3, 9);
    expect(channel.idleAt).toBeCloseTo(0.3, 9);
    expect(channel.queued).toBe(3);
    channel.simulated.run();
    expect(arrivals.map(([what]) => what)).toEqual(['broadcast', 'unicast 1', 'unicast 2']);
    expect(arrivals.map(([, time]) => time)).toEqual([0.11, 0.21000000000000002, 0.31000000000000005]);
    expect(channel.queued).toBe(0);
  });

  test('control frames go before waiting bulk frames, never before the frame on the air; each class keeps its order', () => {
    const channel = simulated();
    const arrivals: [string, number][] = [];
    const at = (what: string) => () => arrivals.push([what, channel.clock.now()]);
    // 100 bytes = 0.1 s on the air; B1 goes on the air at once
    for (const name of ['B1', 'B2', 'B3']) channel.broadcast(100, [1, 2], at(name), 'bulk');
    channel.simulated.advance(0.05);
    channel.unicast(100, 1, at('C1'));
    channel.broadcast(100, [1, 2], at('C2'), 'control');
    channel.unicast(100, 2, at('B4'), 'bulk');
    channel.unicast(100, 2, at('C3'));
    expect(channel.queued).toBe(7);
    expect(channel.airtimeSeconds).toBeCloseTo(0.7, 9);
    expect(channel.idleAt).toBeCloseTo(0.7, 9);
    expect(channel.idleFor('control')).toBeCloseTo(0.4, 9);
    expect(channel.idleFor('bulk')).toBeCloseTo(0.7, 9);
    channel.simulated.run();
    expect(arrivals.map(([what]) => what)).toEqual(['B1', 'C1', 'C2', 'C3', 'B2', 'B3', 'B4']);
    arrivals.forEach(([, time], index) => expect(time).toBeCloseTo(0.1 * (index + 1) + 0.01, 9));
    expect(channel.queued).toBe(0);
    expect(channel.idleFor('control')).toBe(channel.clock.now());
  });

  test('queuedSeconds: the airtime still ahead of the medium, both classes, down to zero as the frames go', () => {
    const channel = simulated();
    expect(channel.queuedSeconds).toBe(0);
    // 100 bytes = 0.1 s on the air
    channel.broadcast(100, [1, 2], () => undefined, 'bulk');
    channel.broadcast(100, [1, 2], () => undefined, 'bulk');
    channel.simulated.advance(0.05);
    expect(channel.queuedSeconds).toBeCloseTo(0.15, 9);
    // a control frame overtakes the waiting bulk frame: the backlog grows by its airtime all the same
    channel.unicast(100, 1, () => undefined);
    expect(channel.queuedSeconds).toBeCloseTo(0.25, 9);
    channel.simulated.advance(0.1);
    expect(channel.queuedSeconds).toBeCloseTo(0.15, 9);
    expect(channel.queued).toBe(2);
    channel.simulated.run();
    expect(channel.queuedSeconds).toBe(0);
    channel.simulated.advance(1);
    expect(channel.queuedSeconds).toBe(0);
  });

  test('with one class the medium is FIFO whichever class it is, and reordering keeps every frame\'s losses', () => {
    const listeners = Array.from({ length: 30 }, (_, index) => index + 1);
    /** the arrival time and the hearers of each frame; `classOf` gives each frame's class */
    const play = (classOf: (frame: number) => 'control' | 'bulk') => {
      const channel = simulated({ loss: 0.3, seed: 5 });
      const heard = new Map<number, [number, number[]]>();
      for (let frame = 0; frame < 12; frame++) {
        if (frame === 6) channel.simulated.advance(0.05);
        channel.broadcast(20 + frame, listeners, (received) => heard.set(frame, [channel.clock.now(), [...received]]), classOf(frame));
      }
      channel.simulated.run();
      return heard;
    };
    const control = play(() => 'control');
    const bulk = play(() => 'bulk');
    expect([...bulk]).toEqual([...control]);
    // odd frames bulk: each even frame overtakes the odd ones still waiting, each frame keeps whom it
    // reached, and each class keeps its own order
    const mixed = play((frame) => (frame % 2 === 0 ? 'control' : 'bulk'));
    for (const frame of control.keys()) expect(mixed.get(frame)![1]).toEqual(control.get(frame)![1]);
    const order = [...mixed.keys()].sort((a, b) => mixed.get(a)![0] - mixed.get(b)![0]);
    expect(order.filter((frame) => frame % 2 === 0)).toEqual([0, 2, 4, 6, 8, 10]);
    expect(order.filter((frame) => frame % 2 === 1)).toEqual([1, 3, 5, 7, 9, 11]);
    expect(order).not.toEqual([...control.keys()]);
    expect(order.indexOf(10)).toBeLessThan(order.indexOf(7));
  });

  test('an unreachable meter hears nothing and its reports never arrive', () => {
    const channel = simulated();
    channel.setReachable(2, false);
    let heard: readonly number[] = [];
    channel.broadcast(10, [1, 2, 3], (received) => (heard = received));
    let unicastArrived: boolean | undefined;
    channel.unicast(10, 2, (arrived) => (unicastArrived = arrived));
    expect(channel.uplink(2, () => undefined)).toBe(false);
    expect(channel.uplink(1, () => undefined)).toBe(true);
    channel.simulated.run();
    expect(heard).toEqual([1, 3]);
    expect(unicastArrived).toBe(false);
  });

  test('real-time clock paces deliveries with timers', async () => {
    const channel = new Channel({ bitRate: 8000, latency: 0.02, loss: 0, seed: 1, clock: 'realtime' });
    const start = channel.clock.now();
    const arrived = await new Promise<number>((resolve) => channel.unicast(80, 1, () => resolve(channel.clock.now())));
    // 0.08 s on the air + 0.02 s latency
    expect(arrived - start).toBeGreaterThanOrEqual(0.095);
  });
});

describe('fleet', () => {
  test('profiles come from the seed and the id only; the CSV is what the KM imports', () => {
    const few = meterProfiles(5, [1, 2, 3], crypto);
    const more = meterProfiles(5, [3, 9], crypto);
    expect(more[0]).toEqual(few[2]);
    expect(toHex(meterProfiles(6, [3], crypto)[0]!.nodeKey)).not.toBe(toHex(few[2]!.nodeKey));
    const fleet = new Fleet({ seed: 5, meters: 3, groupId: 1, kmPublicKey: crypto.publicKey(new Uint8Array(32).fill(1)), crypto });
    const lines = fleet.toCsv().trimEnd().split('\n');
    expect(lines[0]).toBe('id,serial,model,nodeKey');
    expect(lines).toHaveLength(4);
    expect(lines[3]).toBe(`3,${few[2]!.serial},${few[2]!.model},${toHex(few[2]!.nodeKey)}`);
    expect(lines[3]).toMatch(/^3,SIM000000050000000003,[^,]+,[0-9a-f]{32}$/);
    expect(new Set(fleet.profiles.map((p) => toHex(p.nodeKey))).size).toBe(3);
  });
});

/** A commissioned GREP group of `size` meters behind a DC, with the DC's messages to the KM collected. */
function group(size: number, channelConfig: Partial<ChannelConfig> = {}) {
  const random = seededRandom(3);
  const signingKey = random(32);
  const km = new KeyManager({ groupId: 1, signingKey, subgroupCap: 4, crypto }, random);
  const fleet = new Fleet({ seed: 3, meters: size, groupId: 1, kmPublicKey: km.publicKey, crypto });
  km.reseed(fleet.commissioning(), random);
  fleet.hand(km.reseedMessages());
  const channel = simulated(channelConfig);
  const toKm: LinkMessage[] = [];
  /** when each of toKm was sent, on the channel's clock */
  const sentAt: number[] = [];
  const send = (message: LinkMessage) => {
    toKm.push(message);
    sentAt.push(channel.clock.now());
  };
  const dc = new DataConcentrator({ channel, meters: fleet.meters, send, reportBatchSeconds: 0.05 });
  const reports = () => toKm.flatMap((message) => (message.kind === 'report' ? message.reports : []));
  const aired = () => toKm.flatMap((message) => (message.kind === 'aired' ? message.transfers : []));
  return { km, fleet, dc, channel, toKm, sentAt, reports, aired, random, signingKey };
}

describe('data concentrator', () => {
  test('relays a rekey broadcast to every meter and batches their acks to the KM', () => {
    const { km, dc, toKm, aired, random } = group(12);
    const executed = km.remove([5], { suspected: false }, random);
    executed.messages.forEach((message, index) => dc.handle({ kind: 'broadcast', transfer: index + 1, payload: message.bytes }));
    dc.run();
    expect(dc.idle).toBe(true);
    expect(aired()).toEqual([1, 2]);
    // M1 reaches the rest of the leaver's subgroup; M2 brings the others the new epoch and is a
    // duplicate for the first ones, which ack again. The acks of one frame arrive within one batch
    // interval, so each frame's acks reach the KM together.
    const batches = toKm.flatMap((message) => (message.kind === 'report' ? [message.reports.map((report) => [report.member, report.event, report.epoch])] : []));
    expect(batches).toEqual([
      [6, 7, 8].map((member) => [member, 'ack', km.epoch]),
      [1, 2, 3, 4, 6, 7, 8, 9, 10, 11, 12].map((member) => [member, 'ack', km.epoch]),
    ]);
  });

  test('keeps the KG of keyUpdate, never steps back, answers status, refuses unknown meters', () => {
    const { dc, toKm, channel, aired } = group(4);
    const kg = new Uint8Array(16).fill(9);
    dc.handle({ kind: 'keyUpdate', transfer: 1, epoch: 4, kg });
    dc.handle({ kind: 'keyUpdate', transfer: 2, epoch: 3, kg: new Uint8Array(16) });
    expect(dc.epoch).toBe(4);
    expect(dc.groupKey).toEqual(kg);
    dc.handle({ kind: 'unicast', transfer: 3, member: 99, payload: new Uint8Array(10) });
    dc.handle({ kind: 'unicast', transfer: 4, member: 1, payload: new Uint8Array(100) });
    dc.requestStatus();
    expect(toKm).toEqual([
      expect.objectContaining({ kind: 'error', code: DcError.UNKNOWN_METER }),
      { kind: 'status', status: { meters: 4, queued: 1, epoch: 4, airtimeSeconds: channel.airtimeOf(100), queuedSeconds: channel.airtimeOf(100) } },
    ]);
    // the refused unicast never takes the medium: it is not aired
    dc.run();
    expect(aired()).toEqual([4]);
  });

  test('on a slow medium a transfer is aired once its airtime has passed, not when it is taken, and the backlog drains', () => {
    // 1,000 bit/s: a 100-byte frame holds the medium 0.8 s, far longer than a batch (0.05 s)
    const { km, dc, channel, toKm, sentAt, reports, aired, random } = group(12, { bitRate: 1000 });
    channel.setReachable(4, false);
    const executed = km.remove([5], { suspected: false }, random);
    const payloads = [...executed.messages.map((message) => message.bytes), new Uint8Array(100), new Uint8Array(60)];
    executed.messages.forEach((message, index) => dc.handle({ kind: 'broadcast', transfer: index + 1, payload: message.bytes }));
    const lost = executed.messages.length + 1;
    dc.handle({ kind: 'unicast', transfer: lost, member: 4, payload: payloads[lost - 1]! });
    dc.handle({ kind: 'unicast', transfer: lost + 1, member: 3, payload: payloads[lost]! });
    const ends = payloads.map((_, index) => payloads.slice(0, index + 1).reduce((sum, payload) => sum + channel.airtimeOf(payload.length), 0));
    expect(toKm).toEqual([]);
    expect(dc.status()).toMatchObject({ queued: payloads.length, queuedSeconds: ends.at(-1)! });

    dc.run();
    const airedMessages = toKm.flatMap((message, index) => (message.kind === 'aired' ? [{ ...message, at: sentAt[index]! }] : []));
    // one per frame, in the order they went on the air, the lost unicast too
    expect(airedMessages.map((message) => message.transfers)).toEqual(payloads.map((_, index) => [index + 1]));
    airedMessages.forEach((message, index) => {
      // off the air, plus the latency of the channel callback, plus at most one batch interval
      expect(message.at).toBeGreaterThanOrEqual(ends[index]! + 0.01);
      expect(message.at).toBeLessThanOrEqual(ends[index]! + 0.01 + 0.05 + 1e-9);
      // the frames behind it: the next one is on the air when the batch leaves
      expect(message.queued).toBe(payloads.length - index - 1);
      expect(message.queuedSeconds).toBeCloseTo(Math.max(0, ends.at(-1)! - message.at), 9);
    });
    const backlog = airedMessages.map((message) => message.queuedSeconds);
    expect(backlog.at(-1)).toBe(0);
    backlog.slice(1).forEach((seconds, index) => expect(seconds).toBeLessThan(backlog[index]!));
    // the KM hears that a rekey frame is out before the acks it draws
    expect(toKm.findIndex((message) => message.kind === 'aired')).toBeLessThan(toKm.findIndex((message) => message.kind === 'report'));
    expect(reports().map((report) => report.member)).not.toContain(4);
    expect(aired()).toContain(lost);
    expect(dc.idle).toBe(true);
  });

  test('sends status periodically when asked to', () => {
    const channel = simulated();
    const toKm: LinkMessage[] = [];
    const dc = new DataConcentrator({ channel, meters: new Map(), send: (message) => toKm.push(message), statusSeconds: 1 });
    dc.advance(3.5);
    expect(toKm.map((message) => message.kind)).toEqual(['status', 'status', 'status']);
    dc.close();
    dc.advance(3);
    expect(toKm).toHaveLength(3);
  });

  test('a disconnector command to a selection switches exactly those meters, and each reports it', () => {
    const { km, fleet, dc, reports, signingKey } = group(12);
    const sealing = { groupId: 1, epoch: km.epoch, kg: km.groupKey(), signingKey };
    dc.handle({ kind: 'broadcast', transfer: 1, payload: encodeCommand(crypto, sealing, { seq: 1, selector: [2, 5, 11], action: 'open' }) });
    dc.run();
    const open = [...fleet.meters.values()].filter((meter) => meter.disconnector === 'open').map((meter) => meter.id);
    expect(open).toEqual([2, 5, 11]);
    const commandReports = reports().filter((report): report is MeterReport => report.event === 'command');
    expect(commandReports.map((report) => [report.member, readCommandDetail(report.detail)])).toEqual([
      [2, { seq: 1, closed: false }],
      [5, { seq: 1, closed: false }],
      [11, { seq: 1, closed: false }],
    ]);
    // the same frame again (the KM resends when a confirmation was lost) changes nothing and is confirmed
    // again with the same seq and state; a later close to one of them switches it
    dc.handle({ kind: 'broadcast', transfer: 2, payload: encodeCommand(crypto, sealing, { seq: 1, selector: [2, 5, 11], action: 'open' }) });
    dc.run();
    dc.handle({ kind: 'unicast', transfer: 3, member: 5, payload: encodeCommand(crypto, sealing, { seq: 2, selector: [5], action: 'close' }) });
    dc.run();
    expect([...fleet.meters.values()].filter((meter) => meter.disconnector === 'open').map((meter) => meter.id)).toEqual([2, 11]);
    const later = reports().filter((report) => report.event === 'command').slice(3);
    expect(later.map((report) => [report.member, readCommandDetail(report.detail)])).toEqual([
      [2, { seq: 1, closed: false }],
      [5, { seq: 1, closed: false }],
      [11, { seq: 1, closed: false }],
      [5, { seq: 2, closed: true }],
    ]);
  });

  describe('firmware campaign frames through the DC', () => {
    const vendorKey = seededRandom(9)(32);
    const MODEL = 'GX-310 three-phase';
    const pkg = parse(pack(crypto, seededRandom(10)(2000), { vendor: 'Acme', model: MODEL, version: '2.0.0', sequence: 2 }, vendorKey));
    const campaign = (options: { maxBatchBytes?: number } = {}) => {
      const fw = firmwareGroup({ seed: 4, meters: 6, model: MODEL, factory: { running: { version: '1.0.0', sequence: 1 }, vendorKeys: [crypto.publicKey(vendorKey)] }, crypto, loss: 0, rate: 50_000 });
      const sealer = fw.sealer({ campaign: 7, pkg });
      const toKm: LinkMessage[] = [];
      const dc = new DataConcentrator({ channel: fw.channel, meters: fw.fleet.meters, send: (message) => toKm.push(message), ...options });
      let transfer = 0;
      const broadcast = (payload: Uint8Array) => dc.handle({ kind: 'broadcast', transfer: ++transfer, payload });
      const unicast = (member: number, payload: Uint8Array) => dc.handle({ kind: 'unicast', transfer: ++transfer, member, payload });
      /** transfer ids the DC has said are off the air */
      const aired: number[] = [];
      /** the firmware reports the KM got since the last call, by meter */
      const heard = () => {
        dc.run();
        const messages = toKm.splice(0);
        for (const message of messages) if (message.kind === 'aired') aired.push(...message.transfers);
        expect(messages.every((message) => message.kind === 'firmware' || message.kind === 'aired')).toBe(true);
        return messages.flatMap((message) => (message.kind === 'firmware' ? message.reports : [])).sort((a, b) => a.meter - b.meter);
      };
      return { fw, sealer, dc, toKm, broadcast, unicast, heard, aired, transfers: () => transfer };
    };

    test('KEY, BLOCK, QUERY and ACTIVATE reach the meters; their answers come back as firmware messages', () => {
      const { fw, sealer, broadcast, unicast, heard, aired, transfers } = campaign();
      expect(sealer.totalBlocks).toBe(8);
      broadcast(sealer.query(1));
      expect(heard()).toEqual([1, 2, 3, 4, 5, 6].map((meter): FirmwareReport => ({ meter, campaign: 7, status: 'no-key' })));

      broadcast(sealer.key(fw.km.epoch, fw.km.groupKey()));
      for (let index = 0; index < sealer.totalBlocks; index++) if (index !== 3) broadcast(sealer.block(index));
      expect(heard()).toEqual([]); // key and blocks draw no answer
      broadcast(sealer.query(2));
      const gap = missingBitmap(8, (index) => index !== 3);
      expect(heard()).toEqual([1, 2, 3, 4, 5, 6].map((meter): FirmwareReport => ({ meter, campaign: 7, status: 'receiving', missing: gap })));

      // the missing block to meter 2 alone, then a query to it alone
      unicast(2, sealer.block(3));
      unicast(2, sealer.query(3));
      expect(heard()).toEqual([{ meter: 2, campaign: 7, status: 'verified' }]);
      broadcast(sealer.activate());
      expect(heard()).toEqual([{ meter: 2, campaign: 7, status: 'activated', version: '2.0.0' }]);
      expect(fw.fleet.get(2).firmware.running).toEqual({ version: '2.0.0', sequence: 2 });
      expect(fw.fleet.get(1).firmware.running).toEqual({ version: '1.0.0', sequence: 1 });
      // campaign frames are transfers like any other: each one is aired
      expect(aired).toEqual(Array.from({ length: transfers() }, (_, index) => index + 1));
    });

    test('a meter hands a firmware frame to its slot and a rekey frame to its member', () => {
      const { fw, sealer } = campaign();
      const answer = fw.fleet.get(1).receive(sealer.query(1));
      expect(answer && isFirmwareReport(answer)).toBe(true);
      expect(fw.fleet.get(1).receive(sealer.key(fw.km.epoch, fw.km.groupKey()))).toBeUndefined();
      expect(fw.fleet.get(1).firmware.slot).toMatchObject({ campaign: 7, state: 'receiving', received: 0 });
    });

    test('a firmware batch goes before its encoded size would pass the cap, and each fits a link frame', () => {
      // a receiving report with a 1-byte bitmap is 2 + 12 bytes on the wire: three fit under 45, not four
      const { fw, sealer, broadcast, toKm, dc } = campaign({ maxBatchBytes: 45 });
      broadcast(sealer.key(fw.km.epoch, fw.km.groupKey()));
      broadcast(sealer.query(1));
      dc.run();
      const firmware = toKm.filter((message) => message.kind === 'firmware');
      expect(firmware.map((message) => message.reports.map((report) => report.meter))).toEqual([
        [1, 2, 3],
        [4, 5, 6],
      ]);
      for (const message of firmware) expect(encodeLinkMessage(message).length).toBeLessThanOrEqual(1 + 2 + 45);
    });

    test('the uplink loses firmware reports like any other', () => {
      const { fw, sealer } = campaign();
      const toKm: LinkMessage[] = [];
      const dc = new DataConcentrator({ channel: simulated({ uplinkLoss: 1 }), meters: fw.fleet.meters, send: (message) => toKm.push(message) });
      dc.handle({ kind: 'broadcast', transfer: 1, payload: sealer.key(fw.km.epoch, fw.km.groupKey()) });
      dc.handle({ kind: 'broadcast', transfer: 2, payload: sealer.query(1) });
      dc.run();
      // every meter heard the downlink (it holds the campaign key), and no answer came up
      expect([...fw.fleet.meters.values()].map((meter) => meter.firmware.slot?.campaign)).toEqual([7, 7, 7, 7, 7, 7]);
      expect(toKm.filter((message) => message.kind !== 'aired')).toEqual([]);
      expect(toKm.flatMap((message) => (message.kind === 'aired' ? message.transfers : []))).toEqual([1, 2]);
      expect(dc.idle).toBe(true);
    });
  });
});
