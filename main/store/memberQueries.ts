import type { Db } from './db.js';
import type { HistoryRecord, MemberRecord } from './store.js';

/*
 * Read-only questions about one meter, asked of rows other repositories write: which operations of
 * the history touched it, and which firmware it reported running. Nothing here writes.
 */

/** 'named': the plan listed the meter; 'group': it changed the group's keys while the meter was a member */
export type OperationRelation = 'named' | 'group';

export interface MemberOperation extends HistoryRecord {
  readonly relation: OperationRelation;
}

/**
 * The history rows that touched a meter: those whose plan names it (its commissioning, a leave,
 * recovery, resync or command listing it, or a recovery suspecting it as departed, even after it
 * left), and every epoch change after it joined and before its removal, since every rekey reaches
 * every member. A resync or a command moves no epoch, so one naming other meters does not touch it.
 */
const TOUCHED = `WITH rows AS (
    SELECT h.id, h.plan_id AS planId, h.operation, h.epoch_from AS epochFrom, h.epoch_to AS epochTo, h.messages, h.bytes, h.actor,
      h.started_at AS startedAt, h.finished_at AS finishedAt, h.duration_ms AS durationMs, h.result,
      EXISTS (SELECT 1 FROM json_each(p.parameters, '$.affected') a WHERE a.value = @meter)
        OR EXISTS (SELECT 1 FROM json_each(p.parameters, '$.departed') d WHERE d.value = @meter) AS named
    FROM rekey_history h LEFT JOIN plans p ON p.id = h.plan_id WHERE h.group_id = @group)
  SELECT * FROM rows WHERE named OR (epochTo > epochFrom AND epochTo > @joined AND (@removed IS NULL OR epochFrom < @removed))`;

type Row = Omit<HistoryRecord, 'messages'> & { messages: string; named: 0 | 1 };

/** One page of the operations that touched `member`, newest first, and how many there are in all. */
export function memberOperations(
  db: Db,
  groupId: number,
  member: Pick<MemberRecord, 'meterId' | 'joinedEpoch' | 'removedEpoch'>,
  page: { readonly offset: number; readonly limit: number },
): { readonly rows: MemberOperation[]; readonly total: number } {
  const parameters = { group: groupId, meter: member.meterId, joined: member.joinedEpoch, removed: member.removedEpoch };
  const { total } = db.prepare(`SELECT count(*) AS total FROM (${TOUCHED})`).get(parameters) as { total: number };
  const rows = db.prepare(`${TOUCHED} ORDER BY id DESC LIMIT @limit OFFSET @offset`).all({ ...parameters, limit: page.limit, offset: page.offset }) as Row[];
  return {
    total,
    rows: rows.map(({ named, messages, ...row }) => ({ ...row, messages: JSON.parse(messages) as Record<string, number>, relation: named ? 'named' : 'group' })),
  };
}

export interface MeterFirmware {
  readonly version: string;
  readonly campaignId: number;
}

interface CampaignVersions {
  /** what tells a changed campaign row: its update time and its state's length (a version reported lengthens it) */
  readonly stamp: string;
  readonly versions: readonly (readonly [number, string])[];
}

/**
 * Per store: each campaign's reported versions, and the merge of them all. The group view asks every
 * second; parsing the JSON state of three 10^5-meter campaigns takes over a second, so a campaign is
 * read again only when its row changed, and the merge only when one did.
 */
const cache = new WeakMap<Db, Map<number, { campaigns: Map<number, CampaignVersions>; stamps: string; merged: ReadonlyMap<number, MeterFirmware> }>>();

/** Each meter's version as it reported it after activating, from the newest campaign it did so in. */
export function firmwareVersions(db: Db, groupId: number): ReadonlyMap<number, MeterFirmware> {
  const rows = db.prepare("SELECT id, updated_at || ' ' || octet_length(state) AS stamp FROM firmware_campaigns WHERE group_id = ? ORDER BY id").all(groupId) as { id: number; stamp: string }[];
  const stamps = rows.map((row) => `${row.id} ${row.stamp}`).join(',');
  const byGroup = cache.get(db) ?? new Map();
  cache.set(db, byGroup);
  const known = byGroup.get(groupId);
  if (known !== undefined && known.stamps === stamps) return known.merged;
  const read = db.prepare(`SELECT CAST(m.key AS INTEGER) AS meterId, json_extract(m.value, '$.version') AS version
    FROM firmware_campaigns c, json_each(c.state, '$.meters') m WHERE c.id = ? AND json_extract(m.value, '$.version') IS NOT NULL`);
  const campaigns = new Map<number, CampaignVersions>();
  const merged = new Map<number, MeterFirmware>();
  for (const row of rows) {
    let campaign = known?.campaigns.get(row.id);
    if (campaign === undefined || campaign.stamp !== row.stamp) {
      const versions = (read.all(row.id) as { meterId: number; version: string }[]).map((meter) => [meter.meterId, meter.version] as const);
      campaign = { stamp: row.stamp, versions };
    }
    campaigns.set(row.id, campaign);
    // newer campaigns come later and overwrite
    for (const [meterId, version] of campaign.versions) merged.set(meterId, { version, campaignId: row.id });
  }
  byGroup.set(groupId, { campaigns, stamps, merged });
  return merged;
}
