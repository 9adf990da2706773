import { z } from 'zod';
import { type CommandSelector, type DisconnectorAction, HEADER_BYTES, type KeyManager, readCommandDetail, SIGNATURE_BYTES, TAG_BYTES } from '../grep/index.js';
import type { MeterReport } from '../link/messages.js';
import { ServiceError } from './errors.js';
import type { OperatorPlan, StoredPlan } from './operations.js';
import { MeterIds } from './planning.js';

/*
 * Group commands (GREP.md §10): open or close the disconnector of every meter or of a list, as one
 * broadcast under KG signed by the KM. Commands change no key, so the plan is one message whatever the
 * scheme; what the operator needs to see is who will be switched.
 */

export const CommandRequest = z.object({ action: z.enum(['open', 'close']), meters: z.union([z.literal('all'), MeterIds]) }).strict();
export type CommandRequest = z.infer<typeof CommandRequest>;

export interface CommandResult {
  readonly planId: string;
  readonly seq: number;
  readonly action: DisconnectorAction;
  /** targeted meters that reported executing this command (or a later one) */
  readonly confirmed: readonly number[];
  readonly missing: readonly number[];
  /** times the command was put on the medium again for the missing ones */
  readonly resends: number;
}

/** header ‖ seq ‖ AEAD(selector ‖ action) ‖ signature, as command.ts encodes it */
function commandBytes(selector: CommandSelector): number {
  const selectorBytes = selector === 'all' ? 1 : 1 + 2 + 4 * selector.length;
  return HEADER_BYTES + 4 + selectorBytes + 1 + TAG_BYTES + SIGNATURE_BYTES;
}

export function planCommand(km: KeyManager, request: CommandRequest): { plan: Omit<OperatorPlan, 'id'>; stored: StoredPlan } {
  if (km.size === 0) throw new ServiceError('EMPTY_SET', 'a group command needs a group with members');
  const selector = request.meters;
  if (selector !== 'all') {
    if (selector.length === 0) throw new ServiceError('EMPTY_SET', 'a group command needs at least one meter, or all');
    const seen = new Set<number>();
    for (const meter of selector) {
      if (seen.has(meter)) throw new ServiceError('DUPLICATE_METER', `meter ${meter} is named twice`);
      seen.add(meter);
      if (!km.has(meter)) throw new ServiceError('UNKNOWN_METER', `meter ${meter} is not a member of the group`);
    }
  }
  const broadcast = { broadcasts: 1, unicasts: 0, bytes: commandBytes(selector) };
  // 'all' is one byte on the wire, but the operator confirms whom it switches: every member, by id
  const affected = selector === 'all' ? [...km.subgroups()].flatMap((subgroup) => subgroup.members).sort((a, b) => a - b) : [...selector];
  return {
    // every scheme sends a command once, under its group key
    plan: { operation: 'command', epoch: km.epoch, affected, messages: { command: 1 }, ...broadcast, costs: { grep: broadcast, basic: broadcast, lkh: broadcast }, rejected: [] },
    stored: { operation: 'command', affected, action: request.action, selector, rejected: [] },
  };
}

/** The last command each meter reported executing (meter reports, event 'command'). */
export class CommandConfirmations {
  private readonly executed = new Map<number, number>();

  observe(reports: readonly MeterReport[]): void {
    for (const report of reports) {
      if (report.event !== 'command') continue;
      const { seq } = readCommandDetail(report.detail);
      if (seq > (this.executed.get(report.member) ?? 0)) this.executed.set(report.member, seq);
    }
  }

  missing(seq: number, meters: readonly number[]): number[] {
    return meters.filter((meter) => (this.executed.get(meter) ?? 0) < seq);
  }
}
