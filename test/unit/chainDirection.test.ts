import { describe, expect, test, vi } from 'vitest';
import { chainStep, decodeMessage, equalBytes, nobleCrypto, openItem, splitKeys } from '../../main/grep/index.js';
import { Fleet } from '../support/fleet.js';

/*
 * "A chain built the wrong way round is caught" (GREP.md §7). Each token family is one hash chain that
 * must run towards its holders: beta_s is random and beta_j = H(beta_{j+1}), so the member at position u,
 * given beta_{u-1} in its SEED, hashes down to beta_{u-2} .. beta_1 and cannot hash up. Built the other
 * way (beta_1 random, beta_{j+1} = H(beta_j)), the same SEED hands u the one value from which H gives
 * beta_u: its own backward token, which §2 says only the younger members of its subgroup and the KM hold.
 * Likewise phi_{u+1} then hashes to phi_u. Holding both of its own node tokens, u reads the M1 that
 * evicts it, so a leave no longer removes anyone: forward secrecy is gone for the whole group.
 *
 * drawChains (the KM's side) is replaced here by one that can build every chain reversed, keeping the
 * rest of chain.ts real: members still hash in the spec's direction, so the harness must notice.
 */

const chains = vi.hoisted(() => ({ reversed: false }));

vi.mock('../../main/grep/chain.js', async (importActual) => {
  const actual = await importActual<typeof import('../../main/grep/chain.js')>();
  const drawChains: typeof actual.drawChains = (crypto, level, epoch, owners, heads) => {
    if (!chains.reversed) return actual.drawChains(crypto, level, epoch, owners, heads);
    // the wrong way round: backward from the oldest up, forward from the youngest down
    const backward = actual.unrollChain(crypto, `${level} backward`, epoch, owners, heads.backward);
    const forward = actual.unrollChain(crypto, `${level} forward`, epoch, [...owners].reverse(), heads.forward).reverse();
    return { backward, forward };
  };
  return { ...actual, drawChains };
});

/**
 * A group of 12 in subgroups of 4 commissioned by a compact re-seed; then member 2 (position 2 of S1,
 * with an older and two younger neighbours) tries to hash up from the beta_1 its SEED gave it, and is
 * removed by a plain leave.
 */
function bootstrapThenLeave(reversed: boolean) {
  chains.reversed = reversed;
  try {
    const fleet = new Fleet({ cap: 4, seed: 17 });
    fleet.bootstrap(12);
    const mismatches = fleet.mismatches();
    const refusedAtBootstrap = fleet.rejected().length;
    const epoch = fleet.km.epoch;
    const beta1 = fleet.members.get(2)!.secrets!.nodeBackward.get(1)!;
    const hashedUp = chainStep(nobleCrypto, 'node backward', 2, epoch, beta1);
    const ownBeta = fleet.km.memberState(3).nodeBackward.find((entry) => entry.owner === 2)!.value;
    const leave = fleet.remove([2], false);
    const m1 = decodeMessage(leave.messages.find((message) => message.type === 'M1')!.bytes);
    const opened = m1.items.map((item) => openItem(nobleCrypto, m1, item, hashedUp)).find((plaintext) => plaintext !== undefined);
    return {
      mismatches,
      refusedAtBootstrap,
      /** members whose wrong tokens do not open the leave's M1/M2 */
      refusedAtLeave: fleet.rejected().length - refusedAtBootstrap,
      ownTokenFromSeed: equalBytes(hashedUp, ownBeta),
      evictedReadsNewGroupKey: opened !== undefined && equalBytes(splitKeys(opened, 2)[1]!, fleet.km.groupKey()),
    };
  } finally {
    chains.reversed = false;
  }
}

describe('the direction of the re-seed chains (GREP.md §7)', () => {
  test('chains built the wrong way round: members derive tokens the KM does not hold, and a member hashes up to its own token and reads its own eviction', () => {
    const run = bootstrapThenLeave(true);
    // every member deeper than one step down a chain derives a wrong value (same SEEDs, same roster: nothing is refused),
    // which shows at the next rekey: a member that hashed down to the anchor token of M1 or M2 cannot open it
    expect(run.refusedAtBootstrap).toBe(0);
    expect(run.mismatches.length).toBeGreaterThan(10);
    expect(run.refusedAtLeave).toBeGreaterThan(0);
    expect(run.mismatches.every((problem) => problem.endsWith("differs from the KM's"))).toBe(true);
    expect(run.mismatches).toContain("3: nodeBackward token of 1 differs from the KM's");
    expect(run.mismatches).toContain("9: subgroupBackward token of 1 differs from the KM's");
    expect(run.ownTokenFromSeed).toBe(true);
    expect(run.evictedReadsNewGroupKey).toBe(true);
  });

  test('control, through the same mock: the real chains give every member exactly the KM\'s secrets, and hashing up gives nothing', () => {
    const run = bootstrapThenLeave(false);
    expect([run.refusedAtBootstrap, run.refusedAtLeave]).toEqual([0, 0]);
    expect(run.mismatches).toEqual([]);
    expect(run.ownTokenFromSeed).toBe(false);
    expect(run.evictedReadsNewGroupKey).toBe(false);
  });
});
