import { type ChainKind, unrollChain } from './chain.js';
import type { GrepCrypto } from './crypto.js';
import { fail } from './errors.js';
import type { MemberKeys } from './member.js';
import type { SeedPayload, TokenEntry } from './payloads.js';
import type { RosterPart } from './wire.js';

/*
 * A member's side of the compact re-seed (§7) and of a batch join (§4): from its SEED and the roster
 * part that lists its subgroup, exactly the secrets of §2. Each chain is hashed down from the one
 * token the SEED gives, over the owners after it on the member's side; the member can never hash up
 * to its own token. A SEED that does not fit the roster (the member not listed where the SEED places
 * it, a token missing or one too many for its place) is refused as a whole.
 */

export interface SeedRoster {
  /** the part's first subgroup id (its header's subject) */
  readonly first: number;
  readonly part: RosterPart;
}

const range = (from: number, to: number, step: 1 | -1) => {
  const ids: number[] = [];
  for (let id = from; step > 0 ? id <= to : id >= to; id += step) ids.push(id);
  return ids;
};

export function expandSeed(
  crypto: GrepCrypto,
  member: number,
  epoch: number,
  seed: SeedPayload,
  roster: SeedRoster,
  /** batch join: B of every existing (older) subgroup, from the BUNDLE */
  existing: readonly TokenEntry[] = [],
): MemberKeys {
  const { part, first } = roster;
  const members = part.subgroups[seed.subgroup - first];
  const u = members ? members.indexOf(member) + 1 : 0;
  if (!members || u === 0) fail('MALFORMED', `the roster does not list meter ${member} in subgroup ${seed.subgroup}`);
  const s = members.length;
  const oldest = part.rangeFirst;
  const youngest = part.rangeFirst + part.rangeCount - 1;
  const t = seed.subgroup;
  const expected: [keyof SeedPayload, boolean][] = [
    ['nodeBackward', u > 1],
    ['nodeForward', u < s],
    ['subgroupBackward', t > oldest],
    ['subgroupForward', t < youngest],
  ];
  for (const [key, present] of expected) {
    if ((seed[key] !== undefined) !== present) fail('MALFORMED', `the SEED ${present ? 'lacks' : 'carries'} ${key} for position ${u} of ${s} in subgroup ${t}`);
  }
  if (existing.some((entry) => entry.owner >= oldest)) fail('MALFORMED', 'the bundle names a subgroup that is not older than the new ones');
  const chain = (kind: ChainKind, owners: number[], start: Uint8Array | undefined) => {
    const map = new Map<number, Uint8Array>();
    if (start) unrollChain(crypto, kind, epoch, owners, start).forEach((value, index) => map.set(owners[index]!, value));
    return map;
  };
  const subgroupBackward = chain('subgroup backward', range(t - 1, oldest, -1), seed.subgroupBackward);
  for (const entry of existing) subgroupBackward.set(entry.owner, entry.value);
  return {
    epoch,
    kg: seed.kg,
    ks: seed.ks,
    subgroup: t,
    nodeBackward: chain('node backward', members.slice(0, u - 1).reverse(), seed.nodeBackward),
    nodeForward: chain('node forward', members.slice(u), seed.nodeForward),
    subgroupBackward,
    subgroupForward: chain('subgroup forward', range(t + 1, youngest, 1), seed.subgroupForward),
  };
}
