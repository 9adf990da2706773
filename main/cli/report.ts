import type { OperatorPlan } from '../ops/operations.js';
import type { SchemeCost } from '../ops/planning.js';
import type { ExecutionResult, KeyManagerService } from '../ops/service.js';
import { escapeControl } from '../text/escape.js';

/** What the operator reads before typing yes, and after: plans and results as text. */

const LISTED_METERS = 20;

function meterList(meters: readonly number[]): string {
  if (meters.length === 0) return 'none';
  const shown = meters.slice(0, LISTED_METERS).join(' ');
  return meters.length > LISTED_METERS ? `${shown} … and ${meters.length - LISTED_METERS} more` : shown;
}

const count = (n: number, what: string) => `${n} ${n === 1 ? what : what.replace(/y$/, 'ie')}${n === 1 ? '' : 's'}`;
const cost = (scheme: SchemeCost) => `${count(scheme.broadcasts, 'broadcast')} + ${count(scheme.unicasts, 'unicast')} = ${scheme.bytes} B`;

export function planText(plan: OperatorPlan, group: string): string {
  const messages = Object.entries(plan.messages).map(([kind, count]) => `${count} ${kind}`).join(', ');
  const { grep, basic, lkh } = plan.costs;
  const saving = basic.bytes > 0 ? ` (${Math.round((100 * grep.bytes) / basic.bytes)}% of basic)` : '';
  const lines = [
    `plan ${plan.id}: ${plan.operation} on group ${escapeControl(group)} at epoch ${plan.epoch}`,
    `  affected meters (${plan.affected.length}): ${meterList(plan.affected)}`,
    `  messages: ${messages}: ${count(plan.broadcasts, 'broadcast')}, ${count(plan.unicasts, 'unicast')}, ${plan.bytes} B on the DC's medium`,
    `  cost  GREP   ${cost(grep)}${saving}`,
    `        basic  ${cost(basic)}`,
    `        LKH    ${cost(lkh)} (estimate)`,
  ];
  if (plan.recordAdds) {
    const { entries, broadcasts, unicasts, bytes } = plan.recordAdds;
    lines.push(`  the suspicion record (${count(entries, 'entry')}) adds ${count(broadcasts, 'broadcast')}, ${count(unicasts, 'unicast')}, ${bytes} B: a re-seed would clear it`);
  }
  if (plan.departed?.length) lines.push(`  departed meters suspected with it (they join the suspicion record, no message): ${meterList(plan.departed)}`);
  for (const row of plan.rejected) lines.push(`  CSV line ${row.line} left out: ${row.reason}`);
  return lines.join('\n');
}

/** What suspecting departed meters does to later leaves, before the operator confirms it. */
export function suspectText(group: string, meters: readonly number[], leave: ReturnType<KeyManagerService['leaveCost']>): string {
  const lines = [`suspect departed meters ${meterList(meters)} in group ${escapeControl(group)}: their places join the suspicion record, no message is sent`];
  if (leave) {
    lines.push(`  a plain leave (of meter ${leave.meter}) costs ${cost({ ...leave.now })} now, ${cost({ ...leave.withSuspects })} with them in the record`);
    lines.push('  a re-seed (grepctl reseed) empties the record');
  }
  return lines.join('\n');
}

export function resultText(result: ExecutionResult): string {
  const outcome = result.converged ? 'converged: every member acked the new group key' : `NOT converged: unreachable meters ${meterList(result.unreachable)}`;
  return [
    `epoch ${result.epochFrom} -> ${result.epoch}: ${outcome}`,
    `  repair: ${count(result.replays, 'replay')}, ${count(result.rebroadcasts, 'rebroadcast')}, ${count(result.resyncs, 'resync')} in ${count(result.rounds, 'round')}; ${result.simSeconds.toFixed(1)} s`,
  ].join('\n');
}
