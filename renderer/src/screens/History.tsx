import type { ColumnDef } from '@tanstack/react-table';
import { useCallback, useMemo, useRef, useState } from 'react';
import type { HistoryView } from '../../../preload/api.js';
import { CostBars } from '../components/CostBars.js';
import { MeterText } from '../components/MeterText.js';
import { RecordsToolbar } from '../components/RecordsToolbar.js';
import { leaveCostIfConnected, SuspicionNotice } from '../components/SuspicionNotice.js';
import { useRowSearch } from '../components/useRowSearch.js';
import { useSimpleTable } from '../components/useSimpleTable.js';
import { VirtualTable } from '../components/VirtualTable.js';
import { useApp, useResource } from '../context.js';
import { formatBytes } from '../logic/costScale.js';
import { downloadText, fileStamp } from '../download.js';
import { formatDuration, formatMessages, formatTime } from '../logic/format.js';
import { historyCsv, historySearchCells } from '../logic/records.js';
import { choices } from '../logic/rowSearch.js';

const NONE: readonly HistoryView[] = [];
const ALL = '';

/** Green for an operation that reached every meter, red for one that did not, plain while running. */
function resultClass(result: string): string | undefined {
  if (/fail|error|abort|unreachable|not converged|missing/i.test(result)) return 'result-bad';
  if (/converged|confirmed|completed|ok/i.test(result)) return 'result-good';
  return undefined;
}

/**
 * The rekey timeline, one row per operation, searchable, filterable by operation, exportable, with the
 * selected row's detail and what each scheme would cost now.
 */
export function History() {
  const { session, inform } = useApp();
  const history = useResource((a) => a.history(), ['history'], [], 500);
  const chart = useResource((a) => a.costChart(), ['group'], [], 1500);
  const leave = useResource(leaveCostIfConnected, ['group', 'history', 'link'], [], 1500);
  const [selectedId, setSelectedId] = useState<number | undefined>(undefined);
  const [operation, setOperation] = useState(ALL);
  const detailRef = useRef<HTMLElement>(null);
  const reseedRef = useRef<HTMLDivElement>(null);
  const rows = history.data ?? NONE;
  const keep = useCallback((h: HistoryView) => operation === ALL || h.operation === operation, [operation]);
  const search = useRowSearch(rows, historySearchCells, keep);
  const operations = useMemo(() => choices(rows, (h) => h.operation), [rows]);

  const columns = useMemo<ColumnDef<HistoryView, any>[]>(
    () => [
      { id: 'id', header: '#', accessorKey: 'id' },
      { id: 'operation', header: 'Operation', accessorKey: 'operation' },
      { id: 'epochs', header: 'Epochs', accessorFn: (h) => h.epochTo, cell: (c) => `${c.row.original.epochFrom} → ${c.row.original.epochTo}` },
      { id: 'messages', header: 'Messages', accessorFn: (h) => formatMessages(h.messages), enableSorting: false },
      { id: 'bytes', header: 'Bytes', accessorKey: 'bytes', cell: (c) => formatBytes(c.row.original.bytes) },
      { id: 'duration', header: 'Duration', accessorFn: (h) => h.durationMs ?? -1, cell: (c) => formatDuration(c.row.original.durationMs) },
      {
        id: 'result',
        header: 'Result',
        accessorKey: 'result',
        cell: (c) => (
          <span className={resultClass(c.row.original.result)}>
            <MeterText text={c.row.original.result} testId={`history-result-${c.row.original.id}`} />
          </span>
        ),
      },
      { id: 'startedAt', header: 'Started', accessorKey: 'startedAt', cell: (c) => formatTime(c.row.original.startedAt) },
    ],
    [],
  );
  const table = useSimpleTable(search.found, columns, [{ id: 'id', desc: true }]);
  const shown = table.getRowModel().rows;
  // the detail follows what the table shows: a row filtered out is no longer selected
  const selected = selectedId === undefined ? undefined : search.found.find((h) => h.id === selectedId);

  const exportCsv = () => {
    const name = `${session.group?.name ?? 'group'}-history-${fileStamp(new Date())}.csv`;
    downloadText(name, historyCsv(shown.map((row) => row.original)), 'text/csv;charset=utf-8');
    inform(`exported ${shown.length} history rows to ${name}`);
  };
  const openReseed = () => {
    reseedRef.current?.scrollIntoView({ block: 'start' });
    // the notice's first control is its "Plan the re-seed" (or, once planned, the plan's own controls)
    reseedRef.current?.querySelector<HTMLButtonElement>('button:not(:disabled)')?.focus();
  };

  return (
    <div className="screen">
      <h2>History</h2>
      <div ref={reseedRef}>
        <SuspicionNotice testId="history-reseed" />
      </div>
      <div className="split">
        <section className="panel grow" aria-label="Timeline">
          <h3>Rekey timeline</h3>
          <RecordsToolbar
            searchLabel="the history"
            searchTestId="history-filter"
            query={search.query}
            onQuery={search.setQuery}
            choices={[{ label: 'Operation', testId: 'history-operation', every: 'every operation', values: operations, value: operation, onChange: setOperation }]}
            shown={shown.length}
            total={rows.length}
            countTestId="history-count"
            exportTestId="history-export"
            onExport={exportCsv}
          />
          <VirtualTable
            table={table}
            testId="history-table"
            label="Rekey timeline"
            rowKey={(h) => h.id}
            onRowClick={(h) => setSelectedId(h.id)}
            onRowOpen={(h) => {
              setSelectedId(h.id);
              detailRef.current?.focus();
            }}
            selectedKey={selected?.id}
            empty={rows.length === 0 ? 'No operation yet.' : 'No operation matches the search.'}
          />
        </section>
        <section className="panel side" aria-label="Detail" data-testid="history-detail" ref={detailRef} tabIndex={-1}>
          <h3>Detail</h3>
          {selected === undefined ? (
            <p className="muted">Select a row (click, or the arrow keys in the table); Enter brings you here.</p>
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
                <MeterText key={selected.id} text={selected.result} open testId="history-detail-result" />
              </dd>
            </dl>
          )}
        </section>
      </div>
      <section className="panel" aria-label="Cost">
        <h3>What one operation costs this group now{chart.data ? ` (${chart.data.members} members)` : ''}</h3>
        <p className="muted">Bytes sent over the DC link, log scale.</p>
        {chart.data !== undefined && <CostBars chart={chart.data} leave={leave.data} onReseed={openReseed} />}
      </section>
    </div>
  );
}
