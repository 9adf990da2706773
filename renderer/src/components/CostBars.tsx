import type { CostChartView, CostView, LeaveCostView } from '../../../preload/api.js';
import { recordChartNote } from '../logic/costText.js';
import { formatBytes, logScale } from '../logic/costScale.js';

const SCHEMES = [
  { key: 'grep', label: 'GREP' },
  { key: 'basic', label: 'basic' },
  { key: 'lkh', label: 'LKH' },
] as const;
const OPERATIONS = [
  { key: 'join', label: 'join', countsRecord: false },
  { key: 'leave', label: 'leave', countsRecord: true },
  { key: 'recover3', label: 'recover 3', countsRecord: true },
] as const;

const LABEL = 90;
const BAR_AREA = 420;
const VALUE = 130;
const BAR = 16;
const GAP = 4;
const GROUP_GAP = 16;
const AXIS = 22;

/**
 * Bytes per operation and scheme, log scale, values written next to the bars; inline SVG, no library.
 * With `leave` holding a non-empty suspicion record (GREP.md §6), GREP's removal bars are starred and a
 * note under the chart says what the record adds, with `onReseed` offering the re-seed that empties it.
 */
export function CostBars({ chart, leave, onReseed }: { readonly chart: CostChartView; readonly leave?: LeaveCostView | undefined; readonly onReseed?: () => void }) {
  const present = OPERATIONS.filter((op) => chart[op.key] !== undefined);
  const values = present.flatMap((op) => SCHEMES.map((s) => (chart[op.key] as CostView)[s.key].bytes));
  const scale = logScale(values, BAR_AREA);
  const groupHeight = SCHEMES.length * (BAR + GAP) + GROUP_GAP;
  const height = present.length * groupHeight + AXIS;
  const width = LABEL + BAR_AREA + VALUE;
  const note = leave === undefined ? undefined : recordChartNote(leave);
  if (present.length === 0) return <p className="muted">No cost to show: the group has no members yet.</p>;
  return (
    <>
      <svg className="cost-chart" data-testid="history-cost-chart" viewBox={`0 0 ${width} ${height}`} width={width} height={height} role="img" aria-label={`Bytes per operation for ${chart.members} members, log scale`}>
        {scale.ticks.map((tick) => (
          <g key={tick.value}>
            <line className="tick" x1={LABEL + tick.at} x2={LABEL + tick.at} y1={0} y2={height - AXIS + 4} />
            <text className="tick-label" x={LABEL + tick.at} y={height - 6} textAnchor="middle">
              {formatBytes(tick.value)}
            </text>
          </g>
        ))}
        {present.map((op, i) => {
          const cost = chart[op.key] as CostView;
          const y0 = i * groupHeight;
          return (
            <g key={op.key} data-testid={`cost-${op.key}`}>
              <text className="op-label" x={0} y={y0 + BAR * 1.5 + GAP}>
                {op.label}
              </text>
              {SCHEMES.map((s, j) => {
                const bytes = cost[s.key].bytes;
                const length = Math.max(1, scale.length(bytes));
                const y = y0 + j * (BAR + GAP);
                const starred = note !== undefined && op.countsRecord && s.key === 'grep';
                return (
                  <g key={s.key}>
                    <rect className={`bar bar-${s.key}`} x={LABEL} y={y} width={length} height={BAR} />
                    <text className="bar-label" x={LABEL + length + 4} y={y + BAR - 4} data-testid={`cost-${op.key}-${s.key}`}>
                      {s.label} {formatBytes(bytes)}
                      {starred ? ' *' : ''}
                    </text>
                  </g>
                );
              })}
            </g>
          );
        })}
      </svg>
      {note !== undefined && (
        <p className="hint-box" data-testid="history-cost-record">
          * {note}{' '}
          {onReseed !== undefined && (
            <button type="button" data-testid="history-cost-reseed" onClick={onReseed}>
              Plan the re-seed
            </button>
          )}
        </p>
      )}
    </>
  );
}
