import type { AuditView, HistoryView } from '../../../preload/api.js';
import { formatBytes } from './costScale.js';
import { buildCsv } from './csv.js';
import { collapsedText } from './meterLists.js';
import { formatDuration, formatMessages, formatTime } from './format.js';
import type { SearchCell } from './rowSearch.js';

/**
 * What the History and Audit lists search and export. A search matches what the screen shows (local
 * times, "1.2 kB", "3 → 4") as well as the stored values (ISO times, exact bytes, every meter id of a
 * collapsed list); an export carries the stored values in full, for a spreadsheet or a report.
 */

export function historySearchCells(h: HistoryView): readonly SearchCell[] {
  return [h.id, h.operation, `${h.epochFrom} → ${h.epochTo}`, formatMessages(h.messages), h.bytes, formatBytes(h.bytes), formatDuration(h.durationMs), h.result, collapsedText(h.result), h.actor, h.startedAt, formatTime(h.startedAt), h.finishedAt, formatTime(h.finishedAt), h.planId];
}

export function historyCsv(rows: readonly HistoryView[]): string {
  return buildCsv(
    ['#', 'Operation', 'Epoch from', 'Epoch to', 'Messages', 'Bytes', 'Duration (ms)', 'Result', 'Actor', 'Started', 'Finished', 'Plan'],
    rows.map((h) => [h.id, h.operation, h.epochFrom, h.epochTo, formatMessages(h.messages), h.bytes, h.durationMs, h.result, h.actor, h.startedAt, h.finishedAt, h.planId]),
  );
}

export function auditSearchCells(a: AuditView): readonly SearchCell[] {
  return [a.id, a.at, formatTime(a.at), a.actor, a.action, a.detail, collapsedText(a.detail), a.hash];
}

export function auditCsv(rows: readonly AuditView[]): string {
  return buildCsv(
    ['#', 'At', 'Actor', 'Action', 'Detail', 'Hash'],
    rows.map((a) => [a.id, a.at, a.actor, a.action, a.detail, a.hash]),
  );
}

/** An audit detail as label/value lines when it is a JSON object (as the store writes it), else undefined. */
export function auditDetailFields(detail: string): readonly { readonly label: string; readonly value: string }[] | undefined {
  let parsed: unknown;
  try {
    parsed = JSON.parse(detail);
  } catch {
    return undefined;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) return undefined;
  return Object.entries(parsed).map(([label, value]) => ({ label, value: typeof value === 'string' ? value : JSON.stringify(value) }));
}
