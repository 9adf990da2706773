import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { HistoryView } from '../../../preload/api.js';
import { CostBars } from '../components/CostBars.js';
import { SuspicionNotice } from '../components/SuspicionNotice.js';
import { useSimpleTable } from '../components/useSimpleTable.js';
import { VirtualTable } from '../components/VirtualTable.js';
import { useResource } from '../context.js';
import { formatBytes } from '../logic/costScale.js';
import { formatDuration, formatMessages, formatTime } from '../logic/format.js';

const NONE: readonly HistoryView[] = [];

/** Green for an operation that reached every meter, red for one that did not, plain while running. */
function resultClass(result: string): string | undefined {
  if (/fail|error|abort|unreachable|not converged|missing/i.test(result)) return 'result-bad';
  if (/converged|confirmed|completed|ok/i.test(result)) return 'result-good';
  return undefined;
}

/** The rekey timeline, one row per operation, with its detail and what each scheme would cost now. */
export function History() {
  const history = useResource((a) => a.history(), ['history'], [], 500);
  const chart = useResource((a) => a.costChart(), ['group'], [], 1500);
  const [selectedId, setSelectedId] = useState<number | undefined>(undefined);

  const columns = useMemo<ColumnDef<HistoryView, any>[]>(
    () => [
      { id: 'id', header: '#', accessorKey: 'id' },
      { id: 'operation', header: 'Operation', accessorKey: 'operation' },
      { id: 'epochs', header: 'Epochs', accessorFn: (h) => h.epochTo, cell: (c) => `${c.row.original.epochFrom} → ${c.row.original.epochTo}` },
      { id: 'messages', header: 'Messages', accessorFn: (h) => formatMessages(h.messages), enableSorting: false },
      { id: 'bytes', header: 'Bytes', accessorKey: 'bytes', cell: (c) => formatBytes(c.row.original.bytes) },
      { id: 'duration', header: 'Duration', accessorFn: (h) => h.durationMs ?? -1, cell: (c) => formatDuration(c.row.original.durationMs) },
      { id: 'result', header: 'Result', accessorKey: 'result', cell: (c) => <span className={resultClass(c.row.original.result)}>{c.row.original.result}</span> },
      { id: 'startedAt', header: 'Started', accessorKey: 'startedAt', cell: (c) => formatTime(c.row.original.startedAt) },
    ],
    [],
  );
  const table = useSimpleTable(history.data ?? NONE, columns, [{ id: 'id', desc: true }]);
  const selected = history.data?.find((h) => h.id === selectedId);

  return (
    <div className="screen">
      <h2>History</h2>
      <SuspicionNotice testId="history-reseed" />
      <div className="split">
        <section className="panel grow" aria-label="Timeline">
          <h3>Rekey timeline</h3>
          <VirtualTable table={table} testId="history-table" rowKey={(h) => h.id} onRowClick={(h) => setSelectedId(h.id)} selectedKey={selectedId} empty="No operation yet." />
        </section>
        <section className="panel side" aria-label="Detail" data-testid="history-detail">
          <h3>Detail</h3>
          {selected === undefined ? (
            <p className="muted">Select a row.</p>
          ) : (
            <dl className="facts">
              <dt>Operation</dt>
              <dd>{selected.operation}</dd>
              <dt>Plan</dt>
              <dd className="mono wrap">{selected.planId}</dd>
              <dt>Epochs</dt>
              <dd>
                {selected.epochFrom} → {selected.epochTo}
              </dd>
              <dt>Messages</dt>
              <dd>
                <ul className="plain">
                  {Object.entries(selected.messages).map(([kind, n]) => (
                    <li key={kind}>
                      {kind}: {n}
                    </li>
                  ))}
                </ul>
              </dd>
              <dt>Bytes</dt>
              <dd>
                {selected.bytes} ({formatBytes(selected.bytes)})
              </dd>
              <dt>Actor</dt>
              <dd>{selected.actor}</dd>
              <dt>Started</dt>
              <dd>{formatTime(selected.startedAt)}</dd>
              <dt>Finished</dt>
              <dd>{formatTime(selected.finishedAt)}</dd>
              <dt>Duration</dt>
              <dd>{formatDuration(selected.durationMs)}</dd>
              <dt>Result</dt>
              <dd data-testid="history-detail-result" className={resultClass(selected.result)}>
                {selected.result}
              </dd>
            </dl>
          )}
        </section>
      </div>
      <section className="panel" aria-label="Cost">
        <h3>What one operation costs this group now{chart.data ? ` (${chart.data.members} members)` : ''}</h3>
        <p className="muted">Bytes sent over the DC link, log scale.</p>
        {chart.data !== undefined && <CostBars chart={chart.data} />}
      </section>
    </div>
  );
}
