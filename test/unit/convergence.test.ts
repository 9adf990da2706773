import { describe, expect, test } from 'vitest';
import { nodeCrypto } from '../../main/crypto/node.js';
import { defaultSubgroupCap, everyMember, KeyManager, kgFingerprint, type Outgoing, seededRandom, toHex } from '../../main/grep/index.js';
import type { MeterReport } from '../../main/link/messages.js';
import { Convergence, type ConvergenceLink, type ConvergenceOptions, type ConvergenceResult, grepSource } from '../../main/ops/convergence.js';
import { audienceOrder } from '../../main/ops/convergenceOrder.js';
import { Channel } from '../../sim/channel.js';
import { DataConcentrator, inProcessLink } from '../../sim/dc.js';
import { Fleet } from '../../sim/fleet.js';
import { isFirmwareReport } from '../../sim/meter.js';

const crypto = nodeCrypto;

/** `size` meters, the first `members` of them commissioned into the group */
function commissioned(size: number, seed: number, cap = defaultSubgroupCap(size), members = size) {
  const random = seededRandom(seed);
  const km = new KeyManager({ groupId: 2, signingKey: random(32), subgroupCap: cap, crypto }, random);
  const fleet = new Fleet({ seed, meters: size, groupId: 2, kmPublicKey: km.publicKey, crypto });
  km.reseed(fleet.commissioning(Array.from({ length: members }, (_, index) => index + 1)), random);
  fleet.hand(km.reseedMessages());
  return { km, fleet, random };
}

/** Every current member holds the KM's KG: the 4-byte fingerprints its acks carry match, exactly. */
function fingerprints(km: KeyManager, fleet: Fleet): { expected: string; wrong: number[] } {
  const expected = toHex(kgFingerprint(crypto, km.groupKey()));
  const wrong = [...grepSource(km).members()].filter((id) => toHex(fleet.get(id).fingerprint) !== expected);
  return { expected, wrong };
}

describe('convergence over a lossy medium (§7)', () => {
  test('200 meters at 10 % loss: after a leave and after a collusion recovery every member is repaired to the KM\'s KG', async () => {
    const { km, fleet, random } = commissioned(200, 11);
    const channel = new Channel({ bitRate: 5000, latency: 0.02, loss: 0.1, seed: 11, clock: 'simulated' });
    let driver: Convergence | undefined;
    const dc = new DataConcentrator({ channel, meters: fleet.meters, send: (m) => driver!.hear(m) });
    driver = new Convergence(grepSource(km), inProcessLink(dc, channel), { crypto, ackTimeout: 0.1, logEpochs: 2 });
    const results: ConvergenceResult[] = [];
    const converge = async (result: Promise<ConvergenceResult>) => {
      results.push(await result);
      return results.at(-1)!;
    };

    const leave = await converge(driver.converge(km.remove([42], { suspected: false }, random)));
    expect(leave).toMatchObject({ converged: true, unreachable: [] });
    // about 40 meters lost M1/M2 or their ack: found by their silence, and repaired
    expect(leave.rebroadcasts + leave.replays).toBeGreaterThan(0);
    expect(fingerprints(km, fleet).wrong).toEqual([]);

    // meter 77 is unplugged over three rekeys: the driver gives up on it each time and says so
    channel.setReachable(77, false);
    for (let rekey = 0; rekey < 3; rekey++) {
      const missed = await converge(driver.converge(km.periodicRekey(random)));
      expect(missed).toMatchObject({ converged: false, unreachable: [77] });
    }
    channel.setReachable(77, true);

    const recovery = await converge(driver.converge(km.remove([3, 64, 150], { suspected: true }, random)));
    expect(recovery).toMatchObject({ converged: true, unreachable: [] });
    const { expected, wrong } = fingerprints(km, fleet);
    expect(wrong).toEqual([]);
    expect(toHex(fleet.get(77).fingerprint)).toBe(expected);
    // lost B unicasts and lost broadcasts are replayed; meter 77's missed epochs are out of the log: resync
    const total = (key: 'replays' | 'rebroadcasts' | 'resyncs') => results.reduce((sum, result) => sum + result[key], 0);
    expect(total('replays')).toBeGreaterThan(0);
    expect(total('rebroadcasts')).toBeGreaterThan(0);
    expect(recovery.resyncs).toBeGreaterThan(0);
  });
});

test('the same driver converges on the real-time clock', async () => {
  const { km, fleet, random } = commissioned(20, 12, 4);
  const channel = new Channel({ bitRate: 1_000_000, latency: 0.005, loss: 0.2, seed: 12, clock: 'realtime' });
  let driver: Convergence | undefined;
  const dc = new DataConcentrator({ channel, meters: fleet.meters, reportBatchSeconds: 0.01, send: (m) => driver!.hear(m) });
  driver = new Convergence(grepSource(km), inProcessLink(dc, channel), { crypto, ackTimeout: 0.03 });
  const result = await driver.converge(km.remove([7], { suspected: false }, random));
  expect(result).toMatchObject({ converged: true });
  expect(result.rounds).toBeGreaterThan(0);
  // real seconds went by: at least the first ack timeout
  expect(result.simSeconds).toBeGreaterThan(0.03);
  expect(fingerprints(km, fleet).wrong).toEqual([]);
});

/**
 * A link with no medium: each frame reaches every meter at once (a unicast its addressee), except the
 * meters the test makes deaf (to every frame, or to the next `frames` ones); reports go straight to
 * the driver. What the driver sends is kept.
 */
function scripted(fleet: Fleet, options: Partial<ConvergenceOptions> = {}) {
  const deaf = new Set<number>();
  const sent: Outgoing[] = [];
  let deafUntil = Number.POSITIVE_INFINITY;
  let driver: Convergence | undefined;
  const link: ConvergenceLink = {
    send(message) {
      sent.push(message);
      if (sent.length > deafUntil) deaf.clear();
      const targets = message.to === 'all' ? [...fleet.meters.values()] : [fleet.get(message.to)];
      const reports: MeterReport[] = [];
      for (const meter of targets) {
        const report = deaf.has(meter.id) ? undefined : meter.receive(message.bytes);
        if (report && !isFirmwareReport(report)) reports.push(report);
      }
      // on the air at once, and every report back before the next frame
      driver!.hear({ kind: 'aired', transfers: [sent.length], queued: 0, queuedSeconds: 0 });
      driver!.observe(reports);
      return sent.length;
    },
    updateKey: () => undefined,
    wait: () => Promise.resolve(),
    now: () => 0,
  };
  return {
    deaf,
    sent,
    /** `ids` miss the next `frames` frames, then hear again */
    miss(ids: readonly number[], frames: number) {
      for (const id of ids) deaf.add(id);
      deafUntil = sent.length + frames;
    },
    attach(km: KeyManager) {
      driver = new Convergence(grepSource(km), link, { crypto, ackTimeout: 1, order: 'as made', ...options });
      return driver;
    },
  };
}

const kinds = (messages: readonly Outgoing[]) => messages.map((m) => `${m.type}>${m.to}`);

describe('repair decisions', () => {
  test('one meter missed its message: that message is replayed to it alone, in order', async () => {
    const { km, fleet, random } = commissioned(16, 5, 4);
    const link = scripted(fleet);
    const driver = link.attach(km);
    // meter 14 is deaf to the operation, not to the repair
    link.miss([14], 2);
    const result = await driver.converge(km.remove([6], { suspected: false }, random));
    expect(result).toMatchObject({ converged: true, replays: 1, rebroadcasts: 0, resyncs: 0, rounds: 1 });
    expect(kinds(link.sent)).toEqual(['M1>all', 'M2>all', 'M2>14']);
  });

  test('several meters missed the same broadcast: it is broadcast once more', async () => {
    const { km, fleet, random } = commissioned(16, 5, 4);
    const link = scripted(fleet);
    const driver = link.attach(km);
    link.miss([1, 9, 14], 2);
    expect(await driver.converge(km.remove([6], { suspected: false }, random))).toMatchObject({ converged: true, replays: 0, rebroadcasts: 1, resyncs: 0 });
    expect(kinds(link.sent)).toEqual(['M1>all', 'M2>all', 'M2>all']);
  });

  /** Meter 3 misses `epochs` periodic rekeys (112 bytes each), then is back for a repair. */
  async function behind(size: number, cap: number, epochs: number, options: Partial<ConvergenceOptions> = {}) {
    const { km, fleet, random } = commissioned(size, 5, cap);
    const link = scripted(fleet, { maxRounds: 1, ...options });
    const driver = link.attach(km);
    link.deaf.add(3);
    const missed: string[] = [];
    for (let rekey = 0; rekey < epochs; rekey++) {
      const executed = km.periodicRekey(random);
      missed.push(toHex(executed.messages[0]!.bytes));
      expect((await driver.converge(executed)).unreachable).toEqual([3]);
    }
    link.deaf.clear();
    link.sent.length = 0;
    const result = await driver.repair();
    expect(fingerprints(km, fleet).wrong).toEqual([]);
    return { result, sent: link.sent, missed, stateBytes: km.planResync(3).bytes };
  }

  test('a meter behind by a few epochs is replayed every missed message, oldest first', async () => {
    // 64 members in subgroups of 8: its state is 356 bytes, more than two PERIODIC
    const { result, sent, missed, stateBytes } = await behind(64, 8, 2);
    expect(stateBytes).toBeGreaterThan(2 * 112);
    expect(result).toMatchObject({ converged: true, replays: 2, resyncs: 0 });
    // the meter applies only epoch e+1, so the order matters
    expect(sent.map((m) => toHex(m.bytes))).toEqual(missed);
  });

  test('a meter behind by more epochs than the log holds gets its full state, though replay would be cheaper', async () => {
    const { result, sent, stateBytes } = await behind(64, 8, 3, { logEpochs: 2 });
    expect(stateBytes).toBeGreaterThan(3 * 112);
    expect(result).toMatchObject({ converged: true, replays: 0, rebroadcasts: 0, resyncs: 1 });
    expect(kinds(sent)).toEqual(['RESYNC>3']);
  });

  test('a meter whose missed messages cost more than its state gets its state', async () => {
    // 16 members in subgroups of 4: its state is 196 bytes
    const { result, sent, stateBytes } = await behind(16, 4, 2);
    expect(stateBytes).toBeLessThan(2 * 112);
    expect(result).toMatchObject({ converged: true, replays: 0, resyncs: 1 });
    expect(kinds(sent)).toEqual(['RESYNC>3']);
  });

  test('a gap report corrects what the KM believed: the meter is replayed from where it stands', async () => {
    const { km, fleet, random } = commissioned(64, 5, 8);
    const link = scripted(fleet, { maxRounds: 1 });
    const driver = link.attach(km);
    link.deaf.add(3);
    await driver.converge(km.periodicRekey(random));
    link.deaf.clear();
    // a wrong belief (say, an ack mixed up upstream): meter 3 is thought to hold epoch 2, it holds 1
    driver.observe([{ member: 3, epoch: km.epoch, fingerprint: kgFingerprint(crypto, km.groupKey()), event: 'ack', detail: 0 }]);
    link.sent.length = 0;
    expect(await driver.converge(km.periodicRekey(random))).toMatchObject({ converged: true, replays: 2, resyncs: 0 });
    expect(kinds(link.sent)).toEqual(['PERIODIC>all', 'PERIODIC>3', 'PERIODIC>3']);
    expect(fingerprints(km, fleet).wrong).toEqual([]);
  });

  test('an ack with a fingerprint that is not the KM\'s calls for a resync', async () => {
    const { km, fleet } = commissioned(16, 5, 4);
    const link = scripted(fleet);
    const driver = link.attach(km);
    driver.observe([{ member: 8, epoch: km.epoch, fingerprint: new Uint8Array(4), event: 'ack', detail: 0 }]);
    expect(await driver.repair()).toMatchObject({ converged: true, resyncs: 1 });
    expect(kinds(link.sent)).toEqual(['RESYNC>8']);
  });

  test('a meter that never answers is given up after the bounded rounds and named', async () => {
    const { km, fleet, random } = commissioned(16, 5, 4);
    const link = scripted(fleet, { maxRounds: 3 });
    const driver = link.attach(km);
    link.deaf.add(10);
    expect(await driver.converge(km.remove([2], { suspected: false }, random))).toMatchObject({ converged: false, unreachable: [10], rounds: 3 });
  });
});

describe('pipelined repair', () => {
  /**
   * 16 meters in subgroups of 4 on a 5,000 bit/s medium without loss, meter 16 outside the group when
   * `operation` is a join; the `deaf` meters miss the driver's first frame.
   */
  async function withMisses(deaf: readonly number[], operation: 'leave' | 'join', options: Partial<ConvergenceOptions> = {}) {
    const { km, fleet, random } = commissioned(16, 5, 4, operation === 'join' ? 15 : 16);
    const channel = new Channel({ bitRate: 5000, latency: 0.02, loss: 0, seed: 5, clock: 'simulated' });
    let driver: Convergence | undefined;
    const holds = new Map<number, number>();
    const dc = new DataConcentrator({
      channel,
      meters: fleet.meters,
      send: (m) => driver!.hear(m),
      onMeterReport: (report, time) => report.epoch === km.epoch && !holds.has(report.member) && holds.set(report.member, time),
    });
    const inner = inProcessLink(dc, channel);
    const sent: Outgoing[] = [];
    const link: ConvergenceLink = {
      ...inner,
      send(message) {
        for (const id of deaf) channel.setReachable(id, sent.length > 0);
        sent.push(message);
        const transfer = inner.send(message);
        for (const id of deaf) channel.setReachable(id, true);
        return transfer;
      },
    };
    driver = new Convergence(grepSource(km), link, { crypto, ackTimeout: 0.1, ...options });
    const executed = operation === 'leave' ? km.remove([6], { suspected: false }, random) : km.join(fleet.commissioning([16])[0]!, random);
    const result = await driver.converge(executed);
    const airtime = (message: Outgoing) => channel.airtimeOf(message.bytes.length);
    expect(fingerprints(km, fleet).wrong).toEqual([]);
    return { result, sent, holds, airtime };
  }

  test('largest audience first: M2 goes before M1, and its rebroadcast follows M1 without waiting for M1\'s acks', async () => {
    // four meters of other subgroups miss M2; its window closes while M1 is on the medium
    const { result, sent, holds, airtime } = await withMisses([9, 10, 13, 14], 'leave', { order: 'largest audience first' });
    expect(result).toMatchObject({ converged: true, rebroadcasts: 1, replays: 0, rounds: 1 });
    expect(kinds(sent)).toEqual(['M2>all', 'M1>all', 'M2>all']);
    expect(airtime(sent[1]!)).toBeGreaterThan(0.1);
    // the medium never idled: waiting for the whole round's window would add the 0.1 s ack timeout
    const [m2, m1, again] = sent.map(airtime);
    for (const id of [9, 10, 13, 14]) expect(holds.get(id)).toBeCloseTo(m2! + m1! + again! + 0.02, 6);
  });

  test('a meter alone in missing a frame waits for the acks of the broadcast after it: it may answer that one', async () => {
    // meter 14 alone misses M2: silent, it may hold the epoch with its ack lost, and would answer M1 (a stale ack)
    const { result, sent, holds, airtime } = await withMisses([14], 'leave', { order: 'largest audience first' });
    expect(result).toMatchObject({ converged: true, replays: 1, rounds: 1 });
    expect(kinds(sent)).toEqual(['M2>all', 'M1>all', 'M2>14']);
    const [m2, m1, replay] = sent.map(airtime);
    // M1's window opens when the DC's airing report for it arrives: its delivery (0.02 s) and the report batch (0.05 s) later
    expect(holds.get(14)).toBeCloseTo(m2! + m1! + 0.02 + 0.05 + 0.1 + replay! + 0.02, 6);
  });

  test('the operation\'s own frames all go before any repair, as the durable link claims them from its outbox', async () => {
    // meter 13 (the joiner's subgroup) misses J1; J1's window closes while J2 is on the medium, before J3
    // is sent, and J2's while J3 (a unicast, heard by the joiner only) is: the replay follows J3 at once
    const { result, sent, holds, airtime } = await withMisses([13], 'join', { order: 'as made' });
    expect(result).toMatchObject({ converged: true, replays: 1, rounds: 1 });
    expect(airtime(sent[1]!)).toBeGreaterThan(0.1);
    expect(airtime(sent[2]!)).toBeGreaterThan(0.1);
    expect(kinds(sent)).toEqual(['J1>all', 'J2>all', 'J3>16', 'J1>13']);
    expect(holds.get(13)).toBeCloseTo(sent.map(airtime).reduce((sum, seconds) => sum + seconds, 0) + 0.02, 6);
  });

  test('largest audience first never lets a frame overtake an earlier one for the same member', () => {
    const frame = (name: string, audience: readonly number[]) => ({ message: { type: 'J2' as const, to: 'all' as const, epoch: 1, audience: everyMember, bytes: new TextEncoder().encode(name) }, isFor: (member: number) => audience.includes(member) });
    const members = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10];
    // two epochs of a batch, each with a small and a large audience
    const x1 = frame('x1', [1, 2]);
    const y1 = frame('y1', [3, 4, 5, 6, 7, 8, 9, 10]);
    const x2 = frame('x2', [1, 2, 3, 4, 5]);
    const y2 = frame('y2', [6, 7, 8, 9, 10]);
    const order = audienceOrder([x1, y1, x2, y2], members);
    expect(order).toEqual([y1, y2, x1, x2]);
    for (const member of members) {
      const own = (frames: readonly typeof x1[]) => frames.filter((f) => f.isFor(member));
      expect(own(order)).toEqual(own([x1, y1, x2, y2]));
    }
  });
});
