import { z } from 'zod';
import { toHex } from '../grep/index.js';
import { findMeter, groupSummaries } from '../store/fleetQueries.js';
import type { KmStore } from '../store/index.js';
import { escapeControl } from '../text/escape.js';
import type { GlobalArgs } from './args.js';
import { groupName, withStore } from './context.js';
import { ExitCode } from './errors.js';
import { type Outcome, type Subcommand, subcommand } from './spec.js';

/*
 * Reading the store without touching the DC: what the KM last heard from each meter, what was done,
 * and whether the audit log is intact. Status comes from the store rather than the service because
 * the service needs a live DC link, and an operator must be able to look while the DC is down.
 */

/** A subcommand that only reads the store. */
const reading = (words: string[], summary: string, read: (store: KmStore, global: GlobalArgs) => Outcome): Subcommand =>
  subcommand({ words, usage: '', summary, schema: z.object({}), run: (_, global) => withStore(global, async (store) => read(store, global), 'read') });

const status = reading(['status'], 'the group epoch and each meter: member or removed, in sync, lagging or unreachable, last ack', (store, global) => {
  const group = store.group(groupName(store, global));
  const meters = store.meterStatuses(group.id).map((meter) => ({ ...meter, sync: meter.sync ?? null }));
  const counts: Record<string, number> = {};
  for (const meter of meters) {
    const state = meter.sync?.status ?? 'never seen';
    counts[state] = (counts[state] ?? 0) + 1;
  }
  const rows = meters.map((meter) => {
    const seen = meter.sync?.lastSeen ? `last seen ${meter.sync.lastSeen}` : 'never seen';
    const acked = meter.sync?.ackedEpoch ?? '-';
    return `  ${String(meter.meterId).padStart(10)}  ${meter.status.padEnd(9)}  ${(meter.sync?.status ?? '-').padEnd(11)}  acked ${String(acked).padStart(5)}  ${escapeControl(meter.serial)} (${escapeControl(meter.model)}), ${seen}`;
  });
  const summary = Object.entries(counts).map(([state, count]) => `${count} ${state}`).join(', ') || 'no meters yet';
  return {
    json: { group: group.name, groupId: group.id, epoch: group.epoch, kmPublicKey: toHex(group.publicKey), counts, meters },
    text: `group ${escapeControl(group.name)} (id ${group.id}) at epoch ${group.epoch}: ${summary}\n${rows.join('\n')}`,
  };
});

const history = reading(['history'], 'every operation executed on the group: epochs, messages by kind, bytes, who, how long, result', (store, global) => {
  const group = store.group(groupName(store, global));
  const operations = store.history(group.id);
  const rows = operations.map((entry) => {
    const messages = Object.entries(entry.messages).map(([kind, count]) => `${count} ${kind}`).join(', ');
    const took = entry.durationMs === null ? 'unfinished' : `${(entry.durationMs / 1000).toFixed(1)} s`;
    return `  ${entry.startedAt}  ${entry.operation.padEnd(10)}  epoch ${entry.epochFrom} -> ${entry.epochTo}  ${entry.bytes} B (${messages})  ${took}  ${escapeControl(entry.result)}  by ${escapeControl(entry.actor)}`;
  });
  return { json: { group: group.name, history: operations }, text: `group ${escapeControl(group.name)}: ${operations.length} operations\n${rows.join('\n')}` };
});

const auditVerify = reading(['audit', 'verify'], 'walk the hash chain of the audit log; names the first edited or missing row (exit 1)', (store) => {
  const verdict = store.verifyAudit();
  return {
    exitCode: verdict.ok ? ExitCode.ok : ExitCode.failed,
    json: { audit: verdict },
    text: verdict.ok ? `audit log intact: ${verdict.rows} rows chain from the first to the head` : `audit log BROKEN at row ${verdict.firstBad} of ${verdict.rows}: ${verdict.reason}`,
  };
});

const groups = reading(['groups'], 'every group of the store: epoch, members by sync state, last operation, open firmware campaigns', (store) => {
  const summaries = groupSummaries(store.db);
  const rows = summaries.map((group) => {
    const sync = Object.entries(group.sync).map(([state, count]) => `${count} ${state}`).join(', ') || 'no members';
    const last = group.lastOperation ? `last ${group.lastOperation.operation} to epoch ${group.lastOperation.epochTo} (${escapeControl(group.lastOperation.result)}) at ${group.lastOperation.at}` : 'no operation yet';
    return `  ${escapeControl(group.name)} (id ${group.id}, DC ${group.dc === null ? 'not bound' : escapeControl(group.dc)})  epoch ${group.epoch}  ${group.members} members: ${sync}; ${last}; ${group.openCampaigns} open campaign(s)`;
  });
  return { json: { groups: summaries }, text: `${summaries.length} group(s)\n${rows.join('\n')}` };
});

/** A meter id, or a serial as printed on the meter. */
const MeterQuery = z.object({ meter: z.string().trim().min(1).max(128) }).strict();

const find = subcommand({
  words: ['find'],
  usage: '<meter id | serial>',
  summary: 'every group the meter is or was in, across the store: its state there, epochs, sync (for an incident: where did this meter have keys?)',
  positional: { name: 'meter', many: false },
  schema: MeterQuery,
  run: ({ meter }, global) =>
    withStore(global, async (store) => {
      const meterId = /^\d{1,10}$/.test(meter) ? Number(meter) : undefined;
      const found = findMeter(store.db, { meterId, serial: meter });
      const rows = found.map((where) => {
        const epochs = where.removedEpoch === null ? `since epoch ${where.joinedEpoch}` : `epochs ${where.joinedEpoch} to ${where.removedEpoch}`;
        return `  ${escapeControl(where.group)}: meter ${where.meterId} ${escapeControl(where.serial)} (${escapeControl(where.model)}) ${where.status} ${epochs}, subgroup ${where.subgroup}, sync ${where.sync ?? 'never seen'}${where.lastSeen ? `, last seen ${where.lastSeen}` : ''}`;
      });
      return {
        exitCode: found.length > 0 ? ExitCode.ok : ExitCode.failed,
        json: { query: meter, found },
        text: found.length > 0 ? `${escapeControl(meter)}: in ${found.length} group(s)\n${rows.join('\n')}` : `${escapeControl(meter)}: in no group of this store`,
      };
    }, 'read'),
});

export const inspectCommands: readonly Subcommand[] = [status, history, auditVerify, groups, find];
