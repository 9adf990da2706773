import type { PlanView } from '../../../preload/api.js';
import { formatBytes } from '../logic/costScale.js';
import { DataTable, numeric } from './DataTable.js';

const SHOWN_AFFECTED = 60;

/** What a plan will do, before anything is sent: messages, bytes, meters, rejected lines, cost. */
export function PlanPanel({ plan, testId }: { readonly plan: PlanView; readonly testId: string }) {
  const shown = plan.affected.slice(0, SHOWN_AFFECTED);
  return (
    <section className="panel plan" data-testid={`${testId}-plan`} aria-label="Plan">
      <h3>
        Plan: {plan.operation} at epoch {plan.epoch}
      </h3>
      <dl className="facts">
        <dt>Affected meters</dt>
        <dd data-testid={`${testId}-plan-affected-count`}>{plan.affected.length}</dd>
        <dt>Broadcasts</dt>
        <dd data-testid={`${testId}-plan-broadcasts`}>{plan.broadcasts}</dd>
        <dt>Unicasts</dt>
        <dd data-testid={`${testId}-plan-unicasts`}>{plan.unicasts}</dd>
        <dt>Bytes</dt>
        <dd data-testid={`${testId}-plan-bytes`}>
          {plan.bytes} ({formatBytes(plan.bytes)})
        </dd>
      </dl>
      <DataTable testId={`${testId}-plan-messages`} compact columns={['Message kind', numeric('Count')]}>
        {Object.entries(plan.messages).map(([kind, count]) => (
          <tr key={kind}>
            <td>{kind}</td>
            <td className="num">{count}</td>
          </tr>
        ))}
      </DataTable>
      <p className="affected" data-testid={`${testId}-plan-affected`}>
        {shown.join(', ')}
        {plan.affected.length > shown.length ? ` … and ${plan.affected.length - shown.length} more` : ''}
      </p>
      <DataTable testId={`${testId}-plan-costs`} compact caption="Cost against the baselines" columns={['Scheme', numeric('Broadcasts'), numeric('Unicasts'), numeric('Bytes')]}>
        {(['grep', 'basic', 'lkh'] as const).map((scheme) => (
          <tr key={scheme} className={scheme === 'grep' ? 'highlight' : undefined}>
            <td>{scheme === 'grep' ? 'GREP' : scheme === 'lkh' ? 'LKH' : 'basic'}</td>
            <td className="num">{plan.costs[scheme].broadcasts}</td>
            <td className="num">{plan.costs[scheme].unicasts}</td>
            <td className="num">{formatBytes(plan.costs[scheme].bytes)}</td>
          </tr>
        ))}
      </DataTable>
      {plan.rejected.length > 0 && (
        <div className="rejected" data-testid={`${testId}-plan-rejected`}>
          <h4>{plan.rejected.length} CSV line(s) rejected</h4>
          <ul>
            {plan.rejected.slice(0, 200).map((r) => (
              <li key={r.line}>
                line {r.line}: {r.reason}
              </li>
            ))}
            {plan.rejected.length > 200 && <li>… and {plan.rejected.length - 200} more</li>}
          </ul>
        </div>
      )}
    </section>
  );
}
