import { nodeCrypto, nodeRandom } from '../crypto/node.js';
import { type GrepCrypto, KeyManager, type Random } from '../grep/index.js';
import type { KmStore } from '../store/index.js';
import { baselineRounds, type CostComparison, compareCosts } from './planning.js';

/*
 * What the next join, leave and 3-meter collusion recovery would cost the group as it stands, under
 * GREP and the two comparison schemes: the operator's "why GREP" chart. Sized on the committed KM state
 * with the planning functions only; nothing is executed and no plan is saved.
 */

export interface CostChart {
  readonly members: number;
  /** undefined when the group is too small for the operation */
  readonly join: CostComparison | undefined;
  readonly leave: CostComparison | undefined;
  readonly recover3: CostComparison | undefined;
}

const RECOVERED = 3;

/** The cost chart of a KM state; `km` is only read. */
export function costChartOf(km: KeyManager): CostChart {
  const members: number[] = [];
  for (const subgroup of km.subgroups()) members.push(...subgroup.members);
  // the joiner needs an id no member has; which one does not change the cost
  let joiner = 1;
  while (km.has(joiner)) joiner++;
  const removal = (count: number): CostComparison | undefined =>
    // a removal must leave someone in the group (planning.ts refuses emptying it)
    members.length > count ? compareCosts([km.planRemove(members.slice(0, count))], [baselineRounds.remove(members.length, count)]) : undefined;
  return {
    members: members.length,
    join: joiner <= 0xffffffff ? compareCosts([km.planJoin(joiner)], [baselineRounds.join(members.length + 1)]) : undefined,
    leave: removal(1),
    recover3: removal(RECOVERED),
  };
}

/** The chart of a stored group, from its committed state. */
export function costChart(store: KmStore, groupName: string, crypto: GrepCrypto = nodeCrypto, random: Random = nodeRandom): CostChart {
  const group = store.group(groupName);
  const { state, signingKey } = store.groupSecrets(group.id);
  const km = KeyManager.restore({ groupId: group.id, signingKey, subgroupCap: group.subgroupCap, crypto }, state, random);
  return costChartOf(km);
}
