import { decodeMessage, type KeyManager } from '../grep/index.js';
import type { RekeySource } from './convergenceTypes.js';

/**
 * GREP's KeyManager as a RekeySource. Audiences follow §4–§6 and the header fields of wire.ts: J1 goes
 * to the joiner's subgroup, J2 to the older ones; a ROSTER part to the subgroups it lists, a BUNDLE to
 * the batch's new subgroups, a SEED to its addressee; M1 to the leaver's subgroup (named by M2's subject) and
 * M2 to the others; A and D to their subject subgroup; C to the subgroups older than Sa (slot 0) and
 * younger than Sb (slot 1); B, J3 and RESYNC to their addressee. A member's subgroup never changes
 * short of a re-seed, which sends every member its ROSTER part and SEED again.
 */
export function grepSource(km: KeyManager): RekeySource {
  const subgroupOf = (member: number) => km.placeOf(member)?.subgroup;
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
    audiences(messages) {
      const decoded = messages.map((message) => decodeMessage(message.bytes));
      const leaverSubgroup = decoded.find((message) => message.header.type === 'M2')?.header.subject;
      // M of §6 gets its own B: A's tokens are not for it
      const reachedByB = new Set(messages.filter((message) => message.type === 'B').map((message) => message.to));
      return messages.map((message, index): ((member: number) => boolean) => {
        if (message.to !== 'all') return (member) => member === message.to;
        const { header, items, roster } = decoded[index]!;
        const owner = (slot: number) => items.find((item) => item.slot === slot)?.owner;
        const inSubgroup = (id: number | undefined) => (member: number) => id === undefined || subgroupOf(member) === id;
        switch (header.type) {
          case 'J1':
            return (member) => member !== header.subject && subgroupOf(member) === owner(0);
          case 'J2':
            // the joiners' subgroups are the youngest: J2 is for every older one (all of N_1..N_q in a batch)
            return (member) => (subgroupOf(member) ?? Infinity) < owner(0)!;
          case 'ROSTER': {
            const last = header.subject + roster!.subgroups.length - 1;
            return (member) => {
              const subgroup = subgroupOf(member);
              return subgroup !== undefined && subgroup >= header.subject && subgroup <= last;
            };
          }
          case 'BUNDLE':
            return (member) => (subgroupOf(member) ?? -1) >= header.subject;
          case 'M1':
            return inSubgroup(leaverSubgroup);
          case 'M2':
            return (member) => subgroupOf(member) !== header.subject;
          case 'A':
            return (member) => !reachedByB.has(member) && inSubgroup(header.subject)(member);
          case 'D':
            return inSubgroup(header.subject);
          case 'C': {
            const older = owner(0);
            const younger = owner(1);
            return (member) => {
              const subgroup = subgroupOf(member);
              return subgroup !== undefined && ((older !== undefined && subgroup < older) || (younger !== undefined && subgroup > younger));
            };
          }
          default:
            return () => true;
        }
      });
    },
  };
}
