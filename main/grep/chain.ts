import { ByteWriter } from './bytes.js';
import type { GrepCrypto } from './crypto.js';

/*
 * One-way token chains (GREP.md §7 compact re-seed, §4 batch join). Each holder set of §2 is a suffix
 * of an ordering: the younger members of a subgroup hold beta of every older one, the older members
 * hold phi of every younger one, and likewise B and F across subgroups. Drawing each family as a hash
 * chain that runs towards the holders lets one token stand for all the ones after it: a member given
 * beta_{u-1} hashes down to beta_1, and cannot hash up to its own beta_u.
 *
 * H = HKDF-SHA-256 with info "grep chain" ‖ kind ‖ owner id ‖ epoch, the owner being the token the
 * step produces: binding kind, owner and epoch keeps two chains (or two re-seeds) from ever sharing a
 * step, so a value from one family or epoch says nothing about another.
 */

export type ChainKind = 'node backward' | 'node forward' | 'subgroup backward' | 'subgroup forward';

const KIND_CODE: Record<ChainKind, number> = { 'node backward': 1, 'node forward': 2, 'subgroup backward': 3, 'subgroup forward': 4 };
const LABEL = new TextEncoder().encode('grep chain');

/** One step: the token of `owner` from the token before it on the chain. */
export function chainStep(crypto: GrepCrypto, kind: ChainKind, owner: number, epoch: number, previous: Uint8Array): Uint8Array {
  const info = new ByteWriter(LABEL.length + 9).raw(LABEL).u8(KIND_CODE[kind]).u32(owner).u32(epoch).done();
  return crypto.kdf(previous, info);
}

/**
 * The chain from `first` (the token of owners[0]) on: value i is the token of owners[i]. The Key
 * Manager unrolls a whole family from its random head; a member unrolls from the one token its SEED
 * gives it, over the owners after it in the same direction.
 */
export function unrollChain(crypto: GrepCrypto, kind: ChainKind, epoch: number, owners: readonly number[], first: Uint8Array): Uint8Array[] {
  const values: Uint8Array[] = [];
  let value = first;
  owners.forEach((owner, index) => {
    if (index > 0) value = chainStep(crypto, kind, owner, epoch, value);
    values.push(value);
  });
  return values;
}

/**
 * The tokens of one ordering (members of a subgroup in join order, or subgroups in creation order)
 * drawn as the two chains of §7: backward from the youngest down (beta_s / B_m random), forward from
 * the oldest up (phi_1 / F_1 random). Returned in the ordering's order.
 */
export function drawChains(
  crypto: GrepCrypto,
  level: 'node' | 'subgroup',
  epoch: number,
  owners: readonly number[],
  heads: { readonly backward: Uint8Array; readonly forward: Uint8Array },
): { backward: Uint8Array[]; forward: Uint8Array[] } {
  const backward = unrollChain(crypto, `${level} backward`, epoch, [...owners].reverse(), heads.backward).reverse();
  const forward = unrollChain(crypto, `${level} forward`, epoch, owners, heads.forward);
  return { backward, forward };
}
