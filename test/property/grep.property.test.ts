import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import { defaultSubgroupCap, type GrepCrypto, nobleCrypto } from '../../main/grep/index.js';
import { nodeCrypto } from '../../main/crypto/node.js';
import { Adversary } from '../support/adversary.js';
import { Fleet } from '../support/fleet.js';
import { countKinds, expectedRemovalCounts } from '../support/oracle.js';
import { tokenReuse } from '../support/tokenUse.js';

type Step =
  | { readonly kind: 'join' }
  | { readonly kind: 'leave'; readonly pick: number }
  | { readonly kind: 'recover'; readonly picks: readonly number[] }
  | { readonly kind: 'periodic' }
  /** one member misses a whole operation, then catches up by replay of the missed messages or by RESYNC (§7) */
  | { readonly kind: 'lossy'; readonly victim: number; readonly pick: number; readonly repair: 'replay' | 'resync' };

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  { weight: 4, arbitrary: fc.constant({ kind: 'join' } as const) },
  { weight: 3, arbitrary: fc.nat().map((pick) => ({ kind: 'leave', pick }) as const) },
  { weight: 2, arbitrary: fc.uniqueArray(fc.nat(), { minLength: 1, maxLength: 3 }).map((picks) => ({ kind: 'recover', picks }) as const) },
  { weight: 1, arbitrary: fc.constant({ kind: 'periodic' } as const) },
  {
    weight: 1,
    arbitrary: fc
      .record({ victim: fc.nat(), pick: fc.nat(), repair: fc.constantFrom('replay', 'resync') })
      .map((s) => ({ kind: 'lossy', ...s }) as const),
  },
);

interface Run {
  readonly fleet: Fleet;
  /** each suspected removal: its epoch and the coalition of all suspects removed so far */
  readonly coalitions: { epoch: number; suspects: number[] }[];
  readonly joins: { id: number; epoch: number }[];
}

function present(fleet: Fleet): number[] {
  return [...fleet.km.subgroups()].flatMap((s) => [...s.members]);
}

/** Invariant 6: an old message replayed, or a current one with a flipped byte, changes no member. */
function injectHostile(fleet: Fleet, seed: number): void {
  const all = fleet.history.length > 0 ? fleet.history.flatMap((h) => h.messages) : [];
  if (all.length === 0) return;
  const replay = all[seed % all.length]!;
  const latest = fleet.history.at(-1)!.messages;
  const victim = latest[seed % latest.length]!;
  const corrupt = victim.bytes.slice();
  corrupt[seed % corrupt.length]! ^= 1 << (seed % 8);
  for (const member of fleet.members.values()) {
    expect(member.receive(replay.bytes).status).not.toBe('applied');
    expect(member.receive(corrupt).status).not.toBe('applied');
  }
}

interface RunOptions {
  readonly initial: number;
  readonly cap: number;
  readonly seed: number;
  readonly crypto?: GrepCrypto;
  readonly history: boolean;
  /** commission the initial members in one re-seed rather than one join each */
  readonly bootstrap?: boolean;
}

function runSteps(steps: readonly Step[], options: RunOptions): Run {
  const fleet = new Fleet({ cap: options.cap, seed: options.seed, history: options.history, crypto: options.crypto });
  const run: Run = { fleet, coalitions: [], joins: [] };
  let nextId = 1;
  if (options.bootstrap) {
    fleet.bootstrap(options.initial);
    nextId += options.initial;
  } else {
    for (let i = 0; i < options.initial; i++) fleet.join(nextId++);
  }
  const suspects: number[] = [];
  steps.forEach((step, index) => {
    const members = present(fleet);
    switch (step.kind) {
      case 'join': {
        const id = nextId++;
        const executed = fleet.join(id);
        run.joins.push({ id, epoch: executed.epoch });
        expect(executed.messages.filter((m) => m.to === 'all').length).toBeLessThanOrEqual(2);
        break;
      }
      case 'leave': {
        if (members.length < 2) return;
        const leaver = members[step.pick % members.length]!;
        const expected = expectedRemovalCounts(fleet.km, [leaver]);
        const executed = fleet.remove([leaver], false);
        expect(countKinds(executed.messages)).toEqual(expected);
        if (fleet.km.suspicion.length === 0) expect(executed.messages.filter((m) => m.to === 'all').length).toBeLessThanOrEqual(2);
        break;
      }
      case 'recover': {
        const chosen = [...new Set(step.picks.map((p) => members[p % members.length]!))];
        if (chosen.length >= members.length) return;
        const expected = expectedRemovalCounts(fleet.km, chosen);
        const executed = fleet.remove(chosen, true);
        expect(countKinds(executed.messages)).toEqual(expected);
        suspects.push(...chosen);
        run.coalitions.push({ epoch: executed.epoch, suspects: [...suspects] });
        break;
      }
      case 'periodic':
        fleet.periodic();
        break;
      case 'lossy': {
        if (members.length < 3) return;
        const victim = fleet.members.get(members[step.victim % members.length]!)!;
        const others = members.filter((m) => m !== victim.id);
        const leaver = others[step.pick % others.length]!;
        const executed = fleet.deliver(fleet.km.remove([leaver], { suspected: false }, fleet.random), new Set([victim.id]));
        expect(victim.report().epoch).toBe(fleet.km.epoch - 1);
        if (step.repair === 'replay') {
          const outcomes = executed.messages.filter((m) => m.to === 'all' || m.to === victim.id).map((m) => victim.receive(m.bytes).status);
          expect(outcomes).toContain('applied');
        } else {
          fleet.deliver(fleet.km.resync(victim.id));
        }
        break;
      }
    }
    expect(fleet.mismatches()).toEqual([]);
    expect(fleet.rejected()).toEqual([]);
    injectHostile(fleet, index * 7919 + options.seed);
    expect(fleet.mismatches()).toEqual([]);
  });
  return run;
}

/** Invariants 3, 4 and 5 on the whole history of a run (small groups: the adversary tries every key). */
function checkHistory(run: Run, crypto: GrepCrypto): void {
  const { fleet } = run;
  for (const { epoch, suspects } of run.coalitions) {
    const spy = new Adversary(crypto, fleet.history.filter((h) => h.epoch <= fleet.km.epoch), new Set(suspects), fleet.nodeKeys);
    // this coalition may hold keys up to its last removal, never from then on
    for (let e = epoch; e <= fleet.km.epoch; e++) {
      if (run.coalitions.some((c) => c.epoch > epoch && c.epoch > e && c.suspects.length > suspects.length)) continue;
      expect(spy.knowsGroupKey(e), `suspects ${suspects} know KG of epoch ${e} (removed at ${epoch})`).toBe(false);
    }
  }
  for (const { id, epoch } of run.joins.slice(0, 3)) {
    const spy = new Adversary(crypto, fleet.history, new Set([id]), fleet.nodeKeys);
    for (let e = 1; e < epoch; e++) expect(spy.knowsGroupKey(e), `joiner ${id} knows KG of epoch ${e}`).toBe(false);
  }
  expect(tokenReuse(crypto, fleet.history)).toEqual([]);
}

describe('GREP under random operation sequences (GREP.md §12)', () => {
  test('small groups: invariants 1-7 after every step, adversary and token freshness over the whole history', () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { minLength: 5, maxLength: 60 }),
        fc.integer({ min: 1, max: 24 }),
        fc.integer({ min: 2, max: 6 }),
        fc.nat(1000),
        (steps, initial, cap, seed) => {
          const run = runSteps(steps, { initial, cap, seed, history: true });
          checkHistory(run, nobleCrypto);
        },
      ),
      { numRuns: 25, seed: 20261125 },
    );
  });
});

/** `npm run test:scale` runs the full 300 operations on 2,000 members (about 10 minutes on 2 cores). */
const SCALE_OPERATIONS = Number(process.env.GREP_SCALE_OPERATIONS ?? 30);

describe('GREP at scale', () => {
  test('300 random operations on a group of 200: invariants 1, 2, 6 and 7 after every step', () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: 300, maxLength: 300 }), (steps) => {
        runSteps(steps, { initial: 200, cap: defaultSubgroupCap(200), seed: 200, crypto: nodeCrypto, history: false, bootstrap: true });
      }),
      { numRuns: 1, seed: 300 },
    );
  }, 600_000);

  test(`2,000 members, ${SCALE_OPERATIONS} random operations: invariants 1, 2, 6 and 7 after every step`, () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { minLength: SCALE_OPERATIONS, maxLength: SCALE_OPERATIONS }), (steps) => {
        const run = runSteps(steps, { initial: 2000, cap: defaultSubgroupCap(2000), seed: 2000, crypto: nodeCrypto, history: false, bootstrap: true });
        expect(run.fleet.km.size).toBeGreaterThan(1900);
      }),
      { numRuns: 1, seed: 4242 },
    );
  }, 1_800_000);
});
