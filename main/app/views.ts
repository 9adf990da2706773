import type {
  AuditVerdictView,
  AuditView,
  CommandResultView,
  CostChartView,
  CostView,
  ExecutionView,
  GroupSummary,
  GroupView,
  HistoryView,
  MemberView,
  Operation,
  PlanView,
  SerialPortView,
} from '../../preload/api.js';
import { toHex } from '../grep/index.js';
import type { SerialPortInfo } from '../link/transport.js';
import type { CostChart } from '../ops/costs.js';
import type { CostComparison } from '../ops/planning.js';
import type { CommandResult, ExecutionResult, MeterStatus, OperatorPlan } from '../ops/service.js';
import type { AuditVerdict, GroupRecord, HistoryRecord, KmStore } from '../store/index.js';

/*
 * The back end's records as the contract's views. Each view is built field by field, never spread
 * from a record, so a field added below (a key, a secret) cannot reach the screen by accident.
 */

/** What the operator must type to run a plan (PlanView.confirmation); undefined when a click is enough. */
export function confirmationOf(operation: string, affected: readonly number[], groupName: string): string | undefined {
  if (operation === 'leave') return affected.join(' ');
  if (operation === 'recover') return groupName;
  return undefined;
}

export function groupSummary(group: GroupRecord, epoch: number, members: number): GroupSummary {
  return { id: group.id, name: group.name, epoch, members, subgroupCap: group.subgroupCap, kmPublicKey: toHex(group.publicKey) };
}

function memberView(meter: MeterStatus): MemberView {
  return {
    meterId: meter.meterId,
    serial: meter.serial,
    model: meter.model,
    subgroup: meter.subgroup,
    position: meter.position,
    joinedEpoch: meter.joinedEpoch,
    removedEpoch: meter.removedEpoch,
    status: meter.status,
    sync: meter.sync?.status ?? (meter.status === 'member' ? 'lagging' : 'removed'),
    ackedEpoch: meter.sync?.ackedEpoch ?? null,
    lastAck: meter.sync?.lastSeen ?? null,
  };
}

export function groupView(group: GroupRecord, epoch: number, meters: readonly MeterStatus[]): GroupView {
  return { group: groupSummary(group, epoch, meters.filter((meter) => meter.status === 'member').length), members: meters.map(memberView) };
}

export function historyView(row: HistoryRecord): HistoryView {
  return {
    id: row.id,
    planId: row.planId,
    operation: row.operation,
    epochFrom: row.epochFrom,
    epochTo: row.epochTo,
    messages: { ...row.messages },
    bytes: row.bytes,
    actor: row.actor,
    startedAt: row.startedAt,
    finishedAt: row.finishedAt,
    durationMs: row.durationMs,
    result: row.result,
  };
}

function costView(costs: CostComparison): CostView {
  const scheme = (cost: CostComparison['grep']) => ({ broadcasts: cost.broadcasts, unicasts: cost.unicasts, bytes: cost.bytes });
  return { grep: scheme(costs.grep), basic: scheme(costs.basic), lkh: scheme(costs.lkh) };
}

export function costChartView(chart: CostChart): CostChartView {
  const optional = (costs: CostComparison | undefined) => (costs === undefined ? undefined : costView(costs));
  return { members: chart.members, join: optional(chart.join), leave: optional(chart.leave), recover3: optional(chart.recover3) };
}

export function planView(plan: OperatorPlan, groupName: string): PlanView {
  return {
    id: plan.id,
    operation: plan.operation as Operation,
    epoch: plan.epoch,
    affected: [...plan.affected],
    messages: { ...plan.messages },
    broadcasts: plan.broadcasts,
    unicasts: plan.unicasts,
    bytes: plan.bytes,
    costs: costView(plan.costs),
    rejected: plan.rejected.map((row) => ({ line: row.line, reason: row.reason })),
    confirmation: confirmationOf(plan.operation, plan.affected, groupName),
  };
}

export function executionView(result: ExecutionResult): ExecutionView {
  return { planId: result.planId, epochFrom: result.epochFrom, epoch: result.epoch, converged: result.converged, unreachable: [...result.unreachable], resyncs: result.resyncs };
}

export function commandResultView(result: CommandResult): CommandResultView {
  return { planId: result.planId, seq: result.seq, action: result.action, confirmed: [...result.confirmed], missing: [...result.missing], resends: result.resends };
}

/** The audit rows as stored: the detail's JSON text and the chain hash the operator can check by hand. */
export function auditView(store: KmStore): AuditView[] {
  return store.db.prepare('SELECT id, at, actor, action, detail, hash FROM audit_log ORDER BY id').all() as AuditView[];
}

export function auditVerdictView(verdict: AuditVerdict): AuditVerdictView {
  return verdict.ok ? { ok: true, rows: verdict.rows } : { ok: false, rows: verdict.rows, problem: `row ${verdict.firstBad}: ${verdict.reason}` };
}

export function serialPortView(port: SerialPortInfo): SerialPortView {
  return {
    path: port.path,
    manufacturer: port.manufacturer ?? undefined,
    serialNumber: port.serialNumber ?? undefined,
    vendorId: port.vendorId ?? undefined,
    productId: port.productId ?? undefined,
  };
}
