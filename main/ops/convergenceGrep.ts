import type { KeyManager } from '../grep/index.js';
import type { RekeySource } from './convergenceTypes.js';

/**
 * GREP's KeyManager as a RekeySource. Who each message is for comes with the message (Outgoing's
 * audience, set by the core as it builds it); the source only says where each member sits now.
 */
export function grepSource(km: KeyManager): RekeySource {
  return {
    get epoch() {
      return km.epoch;
    },
    groupKey: () => km.groupKey(),
    *members() {
      for (const subgroup of km.subgroups()) yield* subgroup.members;
    },
    resyncBytes: (member) => km.planResync(member).bytes,
    resync: (member) => km.resync(member).messages[0]!,
    subgroupOf: (member) => km.placeOf(member)?.subgroup,
  };
}
