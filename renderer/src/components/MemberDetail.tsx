import { useEffect, useRef, useState } from 'react';
import type { MemberDetailView, MemberOperationView, PlanView } from '../../../preload/api.js';
import { useAction, useApp, useResource } from '../context.js';
import { formatTime } from '../logic/format.js';
import { DataTable, numeric } from './DataTable.js';
import { ExecutePanel } from './ExecutePanel.js';
import { PlanPanel } from './PlanPanel.js';

interface Props {
  readonly meterId: number;
  /** the dialog closed (Esc, the close button): the caller puts focus back on the meter's row */
  readonly onClose: () => void;
}

const RELATION: Record<MemberOperationView['relation'], string> = { named: 'named it', group: 'group rekey' };

/**
 * One meter in a modal dialog, for the technician standing at it: where it sits in the group, whether
 * it holds the current epoch, its firmware and disconnector, the operations that touched it, and a
 * Resync through the same plan -> review -> execute panels as every other operation. Esc closes it.
 */
export function MemberDetail({ meterId, onClose }: Props) {
  const dialog = useRef<HTMLDialogElement>(null);
  const [offset, setOffset] = useState(0);
  const detail = useResource((a) => a.memberDetail(meterId, { offset }), ['group', 'history'], [meterId, offset], 1000);

  // modal: the page behind is inert and Esc closes it; an element removed from the page leaves the top layer by itself
  useEffect(() => {
    const element = dialog.current;
    if (element !== null && !element.open) element.showModal();
  }, []);

  const data = detail.data;
  return (
    <dialog ref={dialog} className="member-detail" data-testid="member-detail" aria-labelledby="member-detail-title" onClose={onClose}>
      <div className="dialog-head">
        <h3 id="member-detail-title">
          Meter <span data-testid="member-detail-id">{meterId}</span>
        </h3>
        <button type="button" data-testid="member-detail-close" aria-label="Close" onClick={() => dialog.current?.close()}>
          Close (Esc)
        </button>
      </div>
      {data === undefined ? <p className="muted">{detail.loading ? 'Loading…' : 'Not available: see the status line.'}</p> : <Facts detail={data} />}
      {data !== undefined && (
        <>
          <Operations detail={data} onPage={setOffset} />
          <Resync detail={data} onExecuted={detail.reload} />
        </>
      )}
    </dialog>
  );
}

function Facts({ detail }: { readonly detail: MemberDetailView }) {
  const { member, firmware, disconnector } = detail;
  return (
    <dl className="facts" data-testid="member-detail-facts">
      <dt>Serial</dt>
      <dd data-testid="member-detail-serial">{member.serial}</dd>
      <dt>Model</dt>
      <dd data-testid="member-detail-model">{member.model}</dd>
      <dt>Subgroup / position</dt>
      <dd data-testid="member-detail-place">
        {member.subgroup} / {member.position}
      </dd>
      <dt>Membership</dt>
      <dd data-testid="member-detail-status">
        <span className={`member-status status-${member.status}`}>{member.status}</span>, joined at epoch {member.joinedEpoch}
        {member.removedEpoch !== null ? `, removed at epoch ${member.removedEpoch}` : ''}
      </dd>
      <dt>Sync</dt>
      <dd>
        <span data-testid="member-detail-sync" className={`sync sync-${detail.sync.replace(' ', '-')}`}>
          {detail.sync}
        </span>
      </dd>
      <dt>Acked epoch</dt>
      <dd data-testid="member-detail-acked">
        {member.ackedEpoch ?? 'none yet'} of group epoch {detail.groupEpoch}
        {detail.epochsBehind !== null && detail.epochsBehind > 0 ? ` (${detail.epochsBehind} behind)` : ''}
      </dd>
      <dt>Last seen</dt>
      <dd data-testid="member-detail-last-seen">{member.lastAck === null ? 'never since it joined' : formatTime(member.lastAck)}</dd>
      <dt>Firmware</dt>
      <dd data-testid="member-detail-firmware">{firmware === undefined ? 'unknown (no activation reported)' : `${firmware.version} (reported after campaign ${firmware.campaignId})`}</dd>
      <dt>Disconnector</dt>
      <dd data-testid="member-detail-disconnector">
        {disconnector === undefined
          ? 'unknown (no command confirmation heard since the back end started)'
          : `${disconnector.state} (command ${disconnector.seq}, confirmed ${formatTime(disconnector.at)})`}
      </dd>
    </dl>
  );
}

function Operations({ detail, onPage }: { readonly detail: MemberDetailView; readonly onPage: (offset: number) => void }) {
  const { operations, operationsOffset: offset, operationsTotal: total } = detail;
  const page = operations.length;
  return (
    <section aria-label="Operations that touched it">
      <h4>Operations that touched it</h4>
      <div className="table-scroll short">
        <DataTable testId="member-detail-operations" compact columns={['Started', 'Operation', numeric('Epochs'), 'How', 'Result', 'Actor']} empty={total === 0 && 'No operation yet.'}>
          {operations.map((operation) => (
            <tr key={operation.historyId} data-testid={`member-detail-operation-${operation.historyId}`}>
              <td>{formatTime(operation.startedAt)}</td>
              <td>{operation.operation}</td>
              <td className="num">{operation.epochFrom === operation.epochTo ? operation.epochTo : `${operation.epochFrom} → ${operation.epochTo}`}</td>
              <td>{RELATION[operation.relation]}</td>
              <td>{operation.result}</td>
              <td>{operation.actor}</td>
            </tr>
          ))}
        </DataTable>
      </div>
      {total > page && (
        <div className="toolbar">
          <button type="button" data-testid="member-detail-newer" disabled={offset === 0} onClick={() => onPage(Math.max(0, offset - Math.max(page, 1)))}>
            Newer
          </button>
          <span className="count" data-testid="member-detail-operations-count">
            {offset + 1}–{offset + page} of {total}
          </span>
          <button type="button" data-testid="member-detail-older" disabled={offset + page >= total} onClick={() => onPage(offset + page)}>
            Older
          </button>
        </div>
      )}
    </section>
  );
}

function Resync({ detail, onExecuted }: { readonly detail: MemberDetailView; readonly onExecuted: () => void }) {
  const { api } = useApp();
  const { busy, run } = useAction();
  const [plan, setPlan] = useState<PlanView | undefined>(undefined);
  const meterId = detail.member.meterId;
  const member = detail.member.status === 'member';
  const makePlan = async () => {
    setPlan(undefined);
    const p = await run(() => api.planResync([meterId]), `plan a resync of meter ${meterId}`);
    if (p) setPlan(p);
  };
  return (
    <section aria-label="Resync">
      <h4>Resync</h4>
      <p className="muted">
        {member ? 'Sends this meter the group’s current state again, for a meter found behind or silent. The rest of the group is not rekeyed.' : 'Only a member can be resynced.'}
      </p>
      <button type="button" data-testid="member-detail-resync" disabled={busy || !member} onClick={() => void makePlan()}>
        Plan a resync
      </button>
      {plan !== undefined && (
        <>
          <PlanPanel plan={plan} testId="member-resync" />
          <ExecutePanel key={plan.id} plan={plan} testId="member-resync" verb="Resync" onExecuted={onExecuted} />
        </>
      )}
    </section>
  );
}
