import type { PlanView } from '../../../preload/api.js';
import { useResource } from '../context.js';
import { formatBytes } from '../logic/costScale.js';
import { airtimeText, exactBytes, METHOD_LABEL, methodComparison, methodRows, recordAddsSentence } from '../logic/costText.js';
import { DataTable, numeric } from './DataTable.js';

const SHOWN_AFFECTED = 60;

/** What a plan will do, before anything is sent: messages, bytes, airtime, meters, rejected lines, cost, and what the suspicion record adds. */
export function PlanPanel({ plan, testId }: { readonly plan: PlanView; readonly testId: string }) {
  const link = useResource((a) => a.linkState(), ['link'], [], 1000);
  const shown = plan.affected.slice(0, SHOWN_AFFECTED);
  const recordAdds = recordAddsSentence(plan);
  return (
    <section className="panel plan" data-testid={`${testId}-plan`} aria-label="Plan">
      <h3>
        Plan: {plan.operation} at epoch {plan.epoch}
      </h3>
      <dl className="facts">
        <dt>Affected meters</dt>
        <dd data-testid={`${testId}-plan-affected-count`}>{plan.operation === 'reseed' ? 'every member' : plan.affected.length}</dd>
        <dt>Broadcasts</dt>
        <dd data-testid={`${testId}-plan-broadcasts`}>{plan.broadcasts}</dd>
        <dt>Unicasts</dt>
        <dd data-testid={`${testId}-plan-unicasts`}>{plan.unicasts}</dd>
        <dt>Bytes</dt>
        <dd data-testid={`${testId}-plan-bytes`}>
          {plan.bytes} ({formatBytes(plan.bytes)})
        </dd>
        <dt>Airtime</dt>
        <dd data-testid={`${testId}-plan-airtime`}>{link.data === undefined ? '…' : airtimeText(plan.bytes, link.data.bitRate)}</dd>
      </dl>
      {recordAdds !== undefined && (
        <p className="hint-box" data-testid={`${testId}-plan-record`}>
          {recordAdds}; a re-seed would clear the record
        </p>
      )}
      {plan.departed.length > 0 && (
        <p data-testid={`${testId}-plan-departed`}>
          Departed meters suspected with it (they join the suspicion record, no message reaches them): {plan.departed.join(', ')}
        </p>
      )}
      {plan.commissioning !== undefined && (
        <>
          <p>
            Method: <strong data-testid={`${testId}-plan-method`}>{METHOD_LABEL[plan.commissioning.method]}</strong>, the cheapest in bytes
          </p>
          <p data-testid={`${testId}-plan-commissioning`}>{methodComparison(plan.commissioning)}</p>
          <DataTable testId={`${testId}-plan-methods`} compact caption="Commissioning methods sized" columns={['Method', numeric('Broadcasts'), numeric('Unicasts'), numeric('Bytes'), numeric('Against the chosen')]}>
            {methodRows(plan.commissioning).map((row) => (
              <tr key={row.method} className={row.chosen ? 'highlight' : undefined} data-testid={`${testId}-plan-method-${row.method}`} data-bytes={row.bytes}>
                <td>{row.label}</td>
                <td className="num">{row.broadcasts}</td>
                <td className="num">{row.unicasts}</td>
                <td className="num">{exactBytes(row.bytes)}</td>
                <td className="num">{row.chosen ? 'chosen' : `${row.ratio.toFixed(1)}x more`}</td>
              </tr>
            ))}
          </DataTable>
        </>
      )}
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
