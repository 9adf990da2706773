import { useMemo } from 'react';
import { useResource } from '../context.js';

export interface MemberIds {
  /** the group's current members */
  readonly known: ReadonlySet<number> | undefined;
  /** meters that left by a plain leave (the departed ones a recovery or "suspect departed" may name) */
  readonly departed: ReadonlySet<number> | undefined;
  /** serial -> meter id of every meter ever commissioned: a technician reads the serial off the meter */
  readonly serials: ReadonlyMap<string, number> | undefined;
  readonly reload: () => void;
}

/** What typed meters are resolved and checked against; undefined until the group is loaded (the back end checks again either way). */
export function useMemberIds(): MemberIds {
  const group = useResource((a) => a.group(), ['group'], [], 2000);
  const sets = useMemo(() => {
    const members = group.data?.members;
    if (members === undefined) return { known: undefined, departed: undefined, serials: undefined };
    const ids = (status: string) => new Set(members.filter((m) => m.status === status).map((m) => m.meterId));
    return { known: ids('member'), departed: ids('left'), serials: new Map(members.map((m) => [m.serial, m.meterId])) };
  }, [group.data]);
  return { ...sets, reload: group.reload };
}
