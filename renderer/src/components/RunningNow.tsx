import type { LinkView, RunningOperationView } from '../../../preload/api.js';
import { useResource } from '../context.js';
import { campaignProgress } from '../logic/campaign.js';
import { timeLeftText } from '../logic/dcQueue.js';
import { formatTime } from '../logic/format.js';

const MOVING_CAMPAIGN = new Set(['distributing', 'activating']);

/**
 * What is being sent and acknowledged now, on every screen: operations (known to the back end, so a
 * page opened or reloaded mid-operation shows them) and moving firmware campaigns, each with an
 * estimate of the time left from the DC's queue.
 */
export function RunningNow({ operations, link }: { readonly operations: readonly RunningOperationView[]; readonly link: LinkView | undefined }) {
  // campaigns live with the DC link's services: without a link there are none to show, and asking would only fail
  const connected = link !== undefined && link.state !== 'disconnected';
  const campaigns = useResource((a) => (connected ? a.campaigns() : Promise.resolve([])), ['campaign'], [connected], 1000);
  const moving = (campaigns.data ?? []).filter((c) => MOVING_CAMPAIGN.has(c.status));
  if (operations.length === 0 && moving.length === 0) return null;
  const left = timeLeftText(link?.dc);
  return (
    <section className="running-now" aria-label="Running now" data-testid="running-now">
      {operations.map((op) => (
        <p key={op.planId} data-testid={`running-operation-${op.planId}`} data-operation={op.operation}>
          <strong>{op.operation}</strong> running since {formatTime(op.startedAt)} (plan {op.planId.slice(0, 8)}):{' '}
          <span data-testid="running-operation-acked">{op.acked === undefined ? op.message : `${op.acked} of ${op.members} members hold epoch ${op.epoch}`}</span>;{' '}
          <span data-testid="running-operation-left">{left}</span>
        </p>
      ))}
      {moving.map((c) => {
        const progress = campaignProgress(c);
        return (
          <p key={c.id} data-testid={`running-campaign-${c.id}`}>
            <strong>firmware campaign {c.id}</strong> {c.status}: {progress.done} of {progress.meters} meters verified, {progress.failed} failed;{' '}
            <span data-testid="running-campaign-left">{left}</span>
          </p>
        );
      })}
    </section>
  );
}
