import { describe, expect, test } from 'vitest';
import type { MemberView } from '../../../preload/api.js';
import { subgroupOverview, totals } from '../../../renderer/src/logic/subgroups.js';

type M = Pick<MemberView, 'subgroup' | 'status' | 'sync'>;
const m = (subgroup: number, sync: MemberView['sync'], status: MemberView['status'] = 'member'): M => ({ subgroup, sync, status });

describe('subgroup overview', () => {
  test('counts current members per subgroup by sync state, in subgroup order', () => {
    const rows = subgroupOverview([m(2, 'in sync'), m(0, 'lagging'), m(0, 'in sync'), m(2, 'unreachable'), m(0, 'in sync')]);
    expect(rows).toEqual([
      { subgroup: 0, members: 3, inSync: 2, lagging: 1, unreachable: 0 },
      { subgroup: 2, members: 2, inSync: 1, lagging: 0, unreachable: 1 },
    ]);
  });

  test('left and recovered meters are not members', () => {
    const rows = subgroupOverview([m(1, 'removed', 'left'), m(1, 'removed', 'recovered'), m(1, 'in sync')]);
    expect(rows).toEqual([{ subgroup: 1, members: 1, inSync: 1, lagging: 0, unreachable: 0 }]);
  });

  test('totals add up, and 10^5 members aggregate quickly', () => {
    const many = Array.from({ length: 100_000 }, (_, i) => m(i % 317, i % 10 === 0 ? 'lagging' : 'in sync'));
    const started = performance.now();
    const rows = subgroupOverview(many);
    expect(performance.now() - started).toBeLessThan(200);
    expect(rows).toHaveLength(317);
    expect(totals(rows)).toEqual({ members: 100_000, inSync: 90_000, lagging: 10_000, unreachable: 0 });
  });
});
