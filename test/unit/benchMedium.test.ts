import { describe, expect, it } from 'vitest';
import { deliverDirectly, grepGroup, Medium, seededFleet } from '../../bench/medium.js';
import { equalBytes, everyMember, type Executed, oneMember } from '../../main/grep/index.js';
import { grepSource } from '../../main/ops/convergence.js';

const LOSSLESS = { loss: 0, rate: 5000, latency: 0.02, seed: 7 };

describe('bench medium', () => {
  it('bootstraps a group off the medium: the ROSTER broadcast and every SEED reach the members', () => {
    const { random, signingKey, fleet } = seededFleet(7, 13, 'grep');
    const members = Array.from({ length: 12 }, (_, index) => index + 1);
    const km = grepGroup(fleet, signingKey, random, 12, members);
    for (const id of members) {
      expect(fleet.get(id).member.epoch).toBe(km.epoch);
      expect(equalBytes(fleet.get(id).member.groupKey!, km.groupKey())).toBe(true);
    }
    // the meter outside the group heard nothing
    expect(fleet.get(13).member.groupKey).toBeUndefined();
  });

  it('hands a broadcast to the listed meters only and a unicast to its addressee', () => {
    const { fleet } = seededFleet(7, 3, 'grep');
    const heard: number[] = [];
    for (const meter of fleet.meters.values()) {
      const receive = meter.receive.bind(meter);
      meter.receive = (bytes) => {
        heard.push(meter.id);
        return receive(bytes);
      };
    }
    const bytes = new Uint8Array(20);
    deliverDirectly(fleet, [1, 2], [{ type: 'ROSTER', to: 'all', epoch: 1, audience: everyMember, bytes }, { type: 'SEED', to: 3, epoch: 1, audience: oneMember(3), bytes }]);
    expect(heard).toEqual([1, 2, 3]);
  });

  it('measures steps converged one after the other as one run', async () => {
    const { random, signingKey, fleet } = seededFleet(7, 14, 'grep');
    const km = grepGroup(fleet, signingKey, random, 14, Array.from({ length: 10 }, (_, index) => index + 1));
    const medium = new Medium(fleet, grepSource(km), LOSSLESS);
    let sent = 0;
    const join = (id: number) => (): Executed => {
      const executed = km.join(fleet.commissioning([id])[0]!, random);
      sent += executed.messages.reduce((sum, message) => sum + message.bytes.length, 0);
      return executed;
    };
    const measured = await medium.measure(join(11), join(12), join(13));
    expect(measured.converged).toBe(true);
    // lossless both ways: nothing repaired, the air is exactly the three joins' messages
    expect(measured.airtimeBytes).toBe(sent);
    expect(measured.replays + measured.rebroadcasts + measured.resyncs).toBe(0);
    expect(measured.simSeconds).toBeGreaterThanOrEqual((sent * 8) / LOSSLESS.rate);
    for (const id of [1, 11, 12, 13]) expect(equalBytes(fleet.get(id).member.groupKey!, km.groupKey())).toBe(true);
    expect(fleet.get(14).member.groupKey).toBeUndefined();
  });
});
