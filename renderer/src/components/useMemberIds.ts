import { useMemo } from 'react';
import { useResource } from '../context.js';

/**
 * The ids of the group's current members, and of the meters that left by a plain leave (the departed
 * ones a recovery or "suspect departed" may name), to validate typed meter ids against; undefined
 * until the group is loaded (the back end checks again either way).
 */
export function useMemberIds(): { readonly known: ReadonlySet<number> | undefined; readonly departed: ReadonlySet<number> | undefined; readonly reload: () => void } {
  const group = useResource((a) => a.group(), ['group'], [], 2000);
  const { known, departed } = useMemo(() => {
    const members = group.data?.members;
    if (members === undefined) return { known: undefined, departed: undefined };
    const ids = (status: string) => new Set(members.filter((m) => m.status === status).map((m) => m.meterId));
    return { known: ids('member'), departed: ids('left') };
  }, [group.data]);
  return { known, departed, reload: group.reload };
}
