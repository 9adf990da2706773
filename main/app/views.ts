import type {
  AuditVerdictView,
  AuditView,
  CommandResultView,
  CostChartView,
  CostView,
  DisconnectorState,
  ExecutionView,
  GroupSummary,
  GroupView,
  HistoryView,
  LeaveCostView,
  MemberView,
  PlanView,
  SchemeCostView,
  SerialPortView,
  SuspectView,
} from '../../preload/api.js';
import { toHex } from '../grep/index.js';
import type { SerialPortInfo } from '../link/transport.js';
import type { CostChart } from '../ops/costs.js';
import type { CostComparison } from '../ops/planning.js';
import type { CommandResult, ExecutionResult, KeyManagerService, MeterStatus, OperatorPlan } from '../ops/service.js';
import type { AuditVerdict, GroupRecord, HistoryRecord, KmStore } from '../store/index.js';

/*
 * The back end's records as the contract's views. Each view is built field by field, never spread
 * from a record, so a field added below (a key, a secret) cannot reach the screen by accident.
 */

export function groupSummary(group: GroupRecord, epoch: number, members: number): GroupSummary {
  return { id: group.id, name: group.name, epoch, members, subgroupCap: group.subgroupCap, kmPublicKey: toHex(group.publicKey) };
}

/** What the store does not hold beside a member row: its reported firmware and its last disconnector confirmation. */
export interface MemberExtras {
  readonly firmware: string | undefined;
  readonly disconnector: DisconnectorState | undefined;
}

export function memberView(meter: MeterStatus, extras: MemberExtras): MemberView {
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
    firmware: extras.firmware ?? null,
    disconnector: extras.disconnector ?? null,
  };
}

export function groupView(group: GroupRecord, epoch: number, meters: readonly MeterStatus[], extras: (meterId: number) => MemberExtras): GroupView {
  return { group: groupSummary(group, epoch, meters.filter((meter) => meter.status === 'member').length), members: meters.map((meter) => memberView(meter, extras(meter.meterId))) };
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

function schemeCost(cost: SchemeCostView): SchemeCostView {
  return { broadcasts: cost.broadcasts, unicasts: cost.unicasts, bytes: cost.bytes };
}

function costView(costs: CostComparison): CostView {
  return { grep: schemeCost(costs.grep), basic: schemeCost(costs.basic), lkh: schemeCost(costs.lkh) };
}

export function costChartView(chart: CostChart): CostChartView {
  const optional = (costs: CostComparison | undefined) => (costs === undefined ? undefined : costView(costs));
  return { members: chart.members, join: optional(chart.join), leave: optional(chart.leave), recover3: optional(chart.recover3) };
}

/** `confirmation`: what the operator must type to run it (confirmation.ts planConfirmation). */
export function planView(plan: OperatorPlan, confirmation: string | undefined): PlanView {
  const { recordAdds, commissioning } = plan;
  return {
    id: plan.id,
    operation: plan.operation,
    epoch: plan.epoch,
    affected: [...plan.affected],
    messages: { ...plan.messages },
    broadcasts: plan.broadcasts,
    unicasts: plan.unicasts,
    bytes: plan.bytes,
    costs: costView(plan.costs),
    rejected: plan.rejected.map((row) => ({ line: row.line, reason: row.reason })),
    recordAdds: recordAdds === undefined ? undefined : { ...schemeCost(recordAdds), entries: recordAdds.entries },
    departed: [...(plan.departed ?? [])],
    commissioning: commissioning === undefined ? undefined : { method: commissioning.method, options: commissioning.options.map((option) => ({ method: option.method, ...schemeCost(option) })) },
    confirmation,
  };
}

export function leaveCostView(cost: NonNullable<ReturnType<KeyManagerService['leaveCost']>>): LeaveCostView {
  return { meter: cost.meter, record: cost.record, plain: schemeCost(cost.plain), now: schemeCost(cost.now), withSuspects: schemeCost(cost.withSuspects) };
}

export function suspectView(result: ReturnType<KeyManagerService['suspect']>): SuspectView {
  return { suspected: [...result.suspected], record: result.record };
}

export function executionView(result: ExecutionResult): ExecutionView {
  return {
    planId: result.planId,
    epochFrom: result.epochFrom,
    epoch: result.epoch,
    converged: result.converged,
    superseded: result.superseded,
    unreachable: [...result.unreachable],
    queuedAtDc: [...result.queuedAtDc],
    dcQueuedSeconds: result.dcQueuedSeconds,
    resyncs: result.resyncs,
  };
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
