import { useState } from 'react';
import type { GrepApi, LeaveCostView, PlanView } from '../../../preload/api.js';
import { useAction, useApp, useResource } from '../context.js';
import { airtimeText, exactBytes, messageCount, recordSentence } from '../logic/costText.js';
import { errorText } from '../logic/format.js';
import { ExecutePanel } from './ExecutePanel.js';
import { PlanPanel } from './PlanPanel.js';

/**
 * After a recovery (or departed meters suspected) every removal counts the suspicion record (GREP.md
 * §6): this says what it makes a plain leave cost and offers the re-seed that empties it (§7), planned,
 * shown with its bytes and airtime, and confirmed by the typed group name like any whole-group change.
 * Hidden while the record is empty, unless a re-seed was planned here: then it stays to show the result.
 */

/** The record lives in the connected DC's service: with no DC there is nothing to price or offer (History still shows the rest). */
export async function leaveCostIfConnected(api: GrepApi): Promise<LeaveCostView | undefined> {
  try {
    return await api.leaveCost();
  } catch (error) {
    if (errorText(error).code === 'NOT_CONNECTED') return undefined;
    throw error;
  }
}

export function SuspicionNotice({ testId }: { readonly testId: string }) {
  const { api } = useApp();
  const { busy, run } = useAction();
  const cost = useResource(leaveCostIfConnected, ['group', 'history', 'link'], [], 500);
  const link = useResource((a) => a.linkState(), ['link'], [], 1000);
  const [plan, setPlan] = useState<PlanView | undefined>(undefined);

  const leave = cost.data;
  if (leave === undefined || (leave.record === 0 && plan === undefined)) return null;
  const planReseed = async () => {
    const planned = await run(() => api.planReseed(), 'plan re-seed');
    if (planned) setPlan(planned);
  };

  return (
    <section className={`panel ${leave.record > 0 ? 'warning-zone' : ''}`} data-testid={testId} aria-label="Suspicion record">
      <h3>Suspicion record</h3>
      <p data-testid={`${testId}-leave-cost`}>
        {recordSentence(leave)} (sized on a leave of meter <span data-testid={`${testId}-leave-meter`}>{leave.meter}</span>)
      </p>
      {leave.record > 0 && (
        <p className="muted">
          Every removal counts the record's meters as colluders until a re-seed gives every member fresh keys and empties it. The re-seed is one roster broadcast and one
          short unicast per member.
        </p>
      )}
      {plan === undefined ? (
        <button type="button" data-testid={`${testId}-offer`} disabled={busy} onClick={() => void planReseed()}>
          Plan the re-seed
        </button>
      ) : (
        <>
          <p data-testid={`${testId}-cost`}>
            The re-seed costs {exactBytes(plan.bytes)} in {messageCount(plan).toLocaleString('en-US')} messages, {link.data === undefined ? '…' : airtimeText(plan.bytes, link.data.bitRate)}.
          </p>
          <PlanPanel plan={plan} testId={testId} />
          <ExecutePanel key={plan.id} plan={plan} testId={testId} danger verb="Re-seed" onExecuted={cost.reload} />
        </>
      )}
    </section>
  );
}
