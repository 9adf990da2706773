import { useMemo } from 'react';
import { useResource } from '../context.js';

/**
 * The ids of the group's current members, to validate typed meter ids against; undefined until the
 * group is loaded (the back end checks again either way).
 */
export function useMemberIds(): { readonly known: ReadonlySet<number> | undefined; readonly reload: () => void } {
  const group = useResource((a) => a.group(), ['group'], [], 2000);
  const known = useMemo(
    () => (group.data === undefined ? undefined : new Set(group.data.members.filter((m) => m.status === 'member').map((m) => m.meterId))),
    [group.data],
  );
  return { known, reload: group.reload };
}
