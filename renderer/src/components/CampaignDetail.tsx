import type { ColumnDef } from '@tanstack/react-table';
import { useMemo, useState } from 'react';
import type { CampaignMeterView, CampaignSummary, CampaignView } from '../../../preload/api.js';
import { useAction, useApp, useResource } from '../context.js';
import {
  activationConfirmation,
  activationGate,
  blockProgress,
  type CampaignAction,
  campaignActionAllowed,
  campaignNoteText,
  campaignOutcome,
  campaignProgress,
  cancelConsequence,
} from '../logic/campaign.js';
import { formatBytes } from '../logic/costScale.js';
import { formatTime } from '../logic/format.js';
import { ConfirmationInput } from './ConfirmationInput.js';
import { useSimpleTable } from './useSimpleTable.js';
import { VirtualTable } from './VirtualTable.js';

const NONE: readonly CampaignMeterView[] = [];

/** One campaign: overall progress, per-meter progress, and the buttons that apply in its status; Activate asks for the campaign id typed. */
export function CampaignDetail({ id, onChanged }: { readonly id: number; readonly onChanged: (c: CampaignSummary) => void }) {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const campaign = useResource<CampaignView>((a) => a.campaign(id), ['campaign'], [id], 700);
  const [cancelling, setCancelling] = useState(false);
  const [typed, setTyped] = useState('');
  const columns = useMemo<ColumnDef<CampaignMeterView, any>[]>(
    () => [
      { id: 'meterId', header: 'Meter', accessorKey: 'meterId' },
      { id: 'state', header: 'State', accessorKey: 'state', cell: (c) => <span className={`fw-state fw-${c.row.original.state}`}>{c.row.original.state}</span> },
      { id: 'received', header: 'Blocks', accessorKey: 'received', cell: (c) => `${c.row.original.received}/${campaign.data?.totalBlocks ?? '?'}` },
      { id: 'reason', header: 'Reason', accessorFn: (m) => m.reason ?? '' },
      { id: 'version', header: 'Version', accessorFn: (m) => m.version ?? '' },
    ],
    [campaign.data?.totalBlocks],
  );
  const table = useSimpleTable(campaign.data?.perMeter ?? NONE, columns);
  const c = campaign.data;
  if (c === undefined) return <section className="panel">Loading campaign {id}…</section>;

  const progress = campaignProgress(c);
  const outcome = campaignOutcome(c);
  const blocks = blockProgress(c);
  const activation = activationGate(c, typed);
  const act = async (action: CampaignAction) => {
    const calls: Readonly<Record<CampaignAction, () => Promise<CampaignSummary>>> = {
      pause: () => api.pauseCampaign(c.id),
      resume: () => api.resumeCampaign(c.id),
      cancel: () => api.cancelCampaign(c.id),
      activate: () => api.activateCampaign(c.id, { confirmation: typed }),
    };
    const result = await run(calls[action], `${action} campaign ${c.id}`);
    setCancelling(false);
    if (result) {
      inform(`campaign ${c.id}: ${result.status}`);
      onChanged(result);
      campaign.reload();
    }
  };
  const allowed = (action: CampaignAction) => (action === 'activate' ? activation.enabled : campaignActionAllowed(action, c.status));
  const button = (action: CampaignAction, label: string, className?: string) => (
    <button type="button" className={className} data-testid={`campaign-${action}`} disabled={busy || !allowed(action)} onClick={() => (action === 'cancel' ? setCancelling(true) : void act(action))}>
      {label}
    </button>
  );

  return (
    <section className="panel" data-testid="campaign-detail" aria-label={`Campaign ${c.id}`}>
      <h3>
        Campaign {c.id}: {c.manifest.model} {c.manifest.version} — <span data-testid="campaign-status" className={`campaign-status cs-${outcome.tone}`}>{outcome.label}</span>
      </h3>
      {c.note && (
        <p className="hint-box" data-testid="campaign-note" role="status">
          {campaignNoteText(c.note)} <span className="muted">(since {formatTime(c.note.since)})</span>
        </p>
      )}
      <dl className="facts">
        <dt>Meters verified or activated</dt>
        <dd>
          <progress data-testid="campaign-progress" max={Math.max(1, progress.meters)} value={progress.done} />{' '}
          <span data-testid="campaign-progress-text">
            {progress.done} / {progress.meters}
          </span>
          {progress.failed > 0 && <span className="error-text"> · {progress.failed} failed</span>}
        </dd>
        <dt>Activated</dt>
        <dd data-testid="campaign-activated">
          {progress.activated} / {progress.meters}
        </dd>
        <dt>On air (round {c.round})</dt>
        <dd>
          <progress data-testid="campaign-on-air" max={Math.max(1, blocks.frames)} value={blocks.aired} />{' '}
          <span data-testid="campaign-on-air-text">
            {blocks.aired} / {blocks.frames} frames
          </span>
          {c.onAir.dcQueueSeconds !== undefined && c.onAir.dcQueueSeconds > 0 && <span className="muted"> · about {Math.ceil(c.onAir.dcQueueSeconds)} s of airtime queued at the DC</span>}
        </dd>
        <dt>Blocks acknowledged</dt>
        <dd>
          <progress data-testid="campaign-blocks" max={Math.max(1, blocks.total)} value={blocks.acknowledged} />{' '}
          <span data-testid="campaign-blocks-text">
            {blocks.acknowledged} / {blocks.total}
          </span>{' '}
          ({c.totalBlocks} blocks of {c.blockSize} B per meter, as the meters last reported)
        </dd>
        <dt>Handed to the DC</dt>
        <dd>{formatBytes(c.sentBytes)}</dd>
        <dt>By state</dt>
        <dd data-testid="campaign-counts">
          {Object.entries(c.counts)
            .map(([state, n]) => `${state} ${n}`)
            .join(' · ')}
        </dd>
      </dl>
      <div className="toolbar">
        {button('pause', 'Pause')}
        {button('resume', 'Resume')}
        {button('activate', 'Activate', 'primary')}
        {button('cancel', 'Cancel campaign', 'danger')}
      </div>
      {campaignActionAllowed('activate', c.status) && (
        <div className="row">
          <ConfirmationInput expected={activationConfirmation(c)} typed={typed} onTyped={setTyped} testId="campaign" />
          {!activation.enabled && <span className="hint">{activation.reason}</span>}
        </div>
      )}
      {cancelling && (
        <div className="confirm-box danger-zone" data-testid="campaign-cancel-confirm">
          <p>
            Cancel campaign {c.id}? {cancelConsequence(c.status)}
          </p>
          <button type="button" className="danger" data-testid="campaign-cancel-yes" disabled={busy} onClick={() => void act('cancel')}>
            Yes, cancel the campaign
          </button>{' '}
          <button type="button" data-testid="campaign-cancel-no" onClick={() => setCancelling(false)}>
            Keep it
          </button>
        </div>
      )}
      <VirtualTable table={table} testId="campaign-meters" rowKey={(m) => m.meterId} className="tall" rowClassName={(m) => (m.state === 'failed' ? 'attention' : undefined)} />
    </section>
  );
}
