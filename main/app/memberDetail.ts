import type { MemberDetailView, MemberOperationView, MemberSyncView } from '../../preload/api.js';
import { ServiceError } from '../ops/errors.js';
import type { GroupRecord, KmStore, MeterStatus } from '../store/index.js';
import { firmwareVersions, type MemberOperation, memberOperations } from '../store/memberQueries.js';
import type { DisconnectorStates } from './disconnectors.js';
import { memberView } from './views.js';

/** operations per page of a member's detail: a meter of a busy group was touched by every rekey */
const OPERATIONS_PAGE = 50;

export interface MemberDetailContext {
  readonly store: KmStore;
  readonly group: GroupRecord;
  readonly epoch: number;
  readonly disconnectors: DisconnectorStates;
}

/**
 * One meter as a field technician asks about it: its place and state, how far behind it is, its
 * firmware and disconnector, and a page of the operations that touched it (up to its removal, for a
 * meter that left). A meter never commissioned into the group is refused, not shown empty.
 */
export function memberDetailView({ store, group, epoch, disconnectors }: MemberDetailContext, meterId: number, offset = 0): MemberDetailView {
  const meter = store.meterStatus(group.id, meterId);
  if (meter === undefined) throw new ServiceError('UNKNOWN_METER', `meter ${meterId} was never commissioned into group ${group.name}`);
  const firmware = firmwareVersions(store.db, group.id).get(meterId);
  const disconnector = disconnectors.of(meterId);
  const { rows, total } = memberOperations(store.db, group.id, meter, { offset, limit: OPERATIONS_PAGE });
  const acked = meter.sync?.ackedEpoch ?? null;
  return {
    member: memberView(meter, { firmware: firmware?.version, disconnector: disconnector?.state }),
    groupEpoch: epoch,
    sync: detailSync(meter),
    epochsBehind: meter.status === 'member' && acked !== null ? Math.max(0, epoch - acked) : null,
    firmware: firmware === undefined ? undefined : { version: firmware.version, campaignId: firmware.campaignId },
    disconnector: disconnector === undefined ? undefined : { state: disconnector.state, seq: disconnector.seq, at: disconnector.at },
    operations: rows.map((row) => operationView(row, meterId)),
    operationsOffset: offset,
    operationsTotal: total,
  };
}

/** A member never heard from since it joined holds only the commissioning's assumption: that is not knowledge. */
function detailSync(meter: MeterStatus): MemberSyncView {
  if (meter.status !== 'member') return 'removed';
  const sync = meter.sync;
  if (sync === undefined || (sync.lastSeen === null && sync.status !== 'unreachable')) return 'unknown';
  return sync.status;
}

function operationView(row: MemberOperation, meterId: number): MemberOperationView {
  return {
    historyId: row.id,
    operation: row.operation,
    epochFrom: row.epochFrom,
    epochTo: row.epochTo,
    actor: row.actor,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    relation: row.relation,
    result: resultFor(row.result, meterId),
  };
}

/**
 * A history result as it concerns one meter. A result that lists meters ("unreachable: 3 4 5") says
 * whether this one is among them and counts the others: at 2,000 meters the list is hundreds of ids.
 */
export function resultFor(result: string, meterId: number): string {
  const listed = /^([a-z][a-z ]*): (\d+(?: \d+)*)$/i.exec(result);
  if (listed === null) return result;
  const [, label, list] = listed as unknown as [string, string, string];
  const ids = list.split(' ').map(Number);
  const mine = ids.includes(meterId);
  const others = ids.length - (mine ? 1 : 0);
  const counted = `${others} other meter${others === 1 ? '' : 's'}`;
  if (mine) return others === 0 ? `${label}: this meter` : `${label}: this meter and ${counted}`;
  return `${label}: ${counted}, not this one`;
}
