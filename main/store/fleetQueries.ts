import type { Db } from './db.js';
import type { MemberStatus, SyncStatus } from './store.js';

/*
 * Read-only questions across every group of a store, for the operator who looks after many sites and
 * the incident responder who must find every group a meter was ever in. Plain data, nothing sealed.
 */

export interface GroupSummary {
  readonly id: number;
  readonly name: string;
  readonly epoch: number;
  /** the DC profile the group is bound to (grepctl group bind), if any */
  readonly dc: string | null;
  /** current members */
  readonly members: number;
  /** current members by sync state ('never seen' for a member with no sync row) */
  readonly sync: Readonly<Record<string, number>>;
  readonly lastOperation: { readonly operation: string; readonly epochTo: number; readonly result: string; readonly at: string } | null;
  /** campaigns neither completed nor cancelled */
  readonly openCampaigns: number;
}

export interface MeterWhereabouts {
  readonly group: string;
  readonly groupId: number;
  readonly meterId: number;
  readonly serial: string;
  readonly model: string;
  readonly status: MemberStatus;
  readonly subgroup: number;
  readonly joinedEpoch: number;
  readonly removedEpoch: number | null;
  readonly sync: SyncStatus | null;
  readonly lastSeen: string | null;
}

export function groupSummaries(db: Db): GroupSummary[] {
  const groups = db.prepare('SELECT id, name, epoch, dc_profile AS dc FROM groups ORDER BY name').all() as { id: number; name: string; epoch: number; dc: string | null }[];
  const syncRows = db.prepare(`SELECT m.group_id AS groupId, coalesce(s.status, 'never seen') AS state, count(*) AS n FROM members m
    LEFT JOIN sync_state s ON s.group_id = m.group_id AND s.meter_id = m.meter_id WHERE m.status = 'member' GROUP BY m.group_id, state`).all() as { groupId: number; state: string; n: number }[];
  const last = db.prepare(`SELECT operation, epoch_to AS epochTo, result, coalesce(finished_at, started_at) AS at FROM rekey_history WHERE group_id = ? ORDER BY id DESC LIMIT 1`);
  const open = db.prepare(`SELECT count(*) AS n FROM firmware_campaigns WHERE group_id = ? AND status NOT IN ('completed', 'cancelled')`);
  return groups.map((group) => {
    const sync: Record<string, number> = {};
    for (const row of syncRows) if (row.groupId === group.id) sync[row.state] = row.n;
    return {
      ...group,
      members: Object.values(sync).reduce((sum, n) => sum + n, 0),
      sync,
      lastOperation: (last.get(group.id) as GroupSummary['lastOperation'] | undefined) ?? null,
      openCampaigns: (open.get(group.id) as { n: number }).n,
    };
  });
}

/** Every group the meter is or was in, by meter id or by serial, newest membership first. */
export function findMeter(db: Db, query: { readonly meterId?: number; readonly serial: string }): MeterWhereabouts[] {
  return db.prepare(`SELECT g.name AS "group", g.id AS groupId, m.meter_id AS meterId, m.serial, m.model, m.status, m.subgroup,
      m.joined_epoch AS joinedEpoch, m.removed_epoch AS removedEpoch, s.status AS sync, s.last_seen AS lastSeen
    FROM members m JOIN groups g ON g.id = m.group_id LEFT JOIN sync_state s ON s.group_id = m.group_id AND s.meter_id = m.meter_id
    WHERE m.meter_id = ? OR m.serial = ? ORDER BY (m.status = 'member') DESC, g.name`).all(query.meterId ?? -1, query.serial) as MeterWhereabouts[];
}
