import type { MemberView } from '../../../preload/api.js';
import type { CsvCell } from './csv.js';

/** The membership columns: one list drives the table, the column chooser and the CSV export. */
export const MEMBER_COLUMNS = [
  { id: 'meterId', label: 'Meter id', value: (m: MemberView): CsvCell => m.meterId },
  { id: 'serial', label: 'Serial', value: (m: MemberView): CsvCell => m.serial },
  { id: 'model', label: 'Model', value: (m: MemberView): CsvCell => m.model },
  { id: 'subgroup', label: 'Subgroup', value: (m: MemberView): CsvCell => m.subgroup },
  { id: 'position', label: 'Join position', value: (m: MemberView): CsvCell => m.position },
  { id: 'joinedEpoch', label: 'Joined epoch', value: (m: MemberView): CsvCell => m.joinedEpoch },
  { id: 'status', label: 'Status', value: (m: MemberView): CsvCell => m.status },
  { id: 'sync', label: 'Sync', value: (m: MemberView): CsvCell => m.sync },
  { id: 'ackedEpoch', label: 'Acked epoch', value: (m: MemberView): CsvCell => m.ackedEpoch },
  { id: 'lastAck', label: 'Last ack', value: (m: MemberView): CsvCell => m.lastAck },
  // unknown is said, not left blank: a blank cell reads as "nothing to see"
  { id: 'firmware', label: 'Firmware', value: (m: MemberView): CsvCell => m.firmware ?? 'unknown' },
  { id: 'disconnector', label: 'Disconnector', value: (m: MemberView): CsvCell => m.disconnector ?? 'unknown' },
] as const;

export type MemberColumnId = (typeof MEMBER_COLUMNS)[number]['id'];
