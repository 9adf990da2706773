import type { DisconnectorState } from '../../preload/api.js';
import { readCommandDetail } from '../grep/index.js';
import type { MeterReport } from '../link/messages.js';
import type { KmStore } from '../store/index.js';

export interface DisconnectorReading {
  readonly state: DisconnectorState;
  /** the group command whose confirmation said so */
  readonly seq: number;
  /** ISO time the confirmation arrived */
  readonly at: string;
}

interface Row {
  readonly meter_id: number;
  readonly state: DisconnectorState;
  readonly seq: number;
  readonly reported_at: string;
}

const reading = (row: Row): DisconnectorReading => ({ state: row.state, seq: row.seq, at: row.reported_at });

/**
 * Each member's disconnector as its last command confirmation reported it (GREP.md §10: the meter's
 * report of a 'command' event carries the seq it executed and the state after it), kept in the store
 * (table disconnector_states) so a restart forgets nothing. Only members are recorded: a faulty or
 * hostile DC inventing ids cannot grow the table.
 */
export class DisconnectorStates {
  constructor(private readonly store: KmStore, private readonly groupId: number) {}

  observe(reports: readonly MeterReport[], at: Date = new Date()): void {
    const commands = reports.filter((report) => report.event === 'command');
    if (commands.length === 0) return;
    // only a member's row is written; a confirmation of an older command, late or repeated, must not undo what a newer one set
    const upsert = this.store.db.prepare(`INSERT INTO disconnector_states (group_id, meter_id, state, seq, reported_at)
      SELECT @group, @meter, @state, @seq, @at WHERE EXISTS (SELECT 1 FROM members WHERE group_id = @group AND meter_id = @meter AND status = 'member')
      ON CONFLICT (group_id, meter_id) DO UPDATE SET state = excluded.state, seq = excluded.seq, reported_at = excluded.reported_at WHERE excluded.seq > disconnector_states.seq`);
    this.store.transaction(() => {
      for (const report of commands) {
        const { seq, closed } = readCommandDetail(report.detail);
        upsert.run({ group: this.groupId, meter: report.member, state: closed ? 'closed' : 'open', seq, at: at.toISOString() });
      }
    });
  }

  of(meterId: number): DisconnectorReading | undefined {
    const row = this.store.db.prepare('SELECT meter_id, state, seq, reported_at FROM disconnector_states WHERE group_id = ? AND meter_id = ?').get(this.groupId, meterId) as Row | undefined;
    return row && reading(row);
  }

  /** Every recorded meter's reading, for the group view: one query, not one per member. */
  all(): Map<number, DisconnectorReading> {
    const rows = this.store.db.prepare('SELECT meter_id, state, seq, reported_at FROM disconnector_states WHERE group_id = ?').all(this.groupId) as Row[];
    return new Map(rows.map((row) => [row.meter_id, reading(row)]));
  }
}
