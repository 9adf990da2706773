import { useState } from 'react';
import { CommissionAction } from '../components/CommissionAction.js';
import { RemovalAction } from '../components/RemovalAction.js';
import { SuspectAction } from '../components/SuspectAction.js';
import { SuspicionNotice } from '../components/SuspicionNotice.js';

const TABS = [
  { id: 'commission', label: 'Commission' },
  { id: 'leave', label: 'Leave' },
  { id: 'recover', label: 'Recovery' },
  { id: 'suspect', label: 'Suspect departed' },
] as const;

/** Group changes, each planned first, shown, then executed deliberately; above them, what the suspicion record costs and the re-seed that empties it. */
export function Actions() {
  const [tab, setTab] = useState<(typeof TABS)[number]['id']>('commission');
  return (
    <div className="screen">
      <h2>Actions</h2>
      <SuspicionNotice testId="reseed" />
      <div className="tabs" role="tablist">
        {TABS.map((t) => (
          <button
            key={t.id}
            type="button"
            role="tab"
            aria-selected={tab === t.id}
            className={`${tab === t.id ? 'active' : ''} ${t.id !== 'commission' ? 'tab-danger' : ''}`}
            data-testid={`actions-tab-${t.id}`}
            onClick={() => setTab(t.id)}
          >
            {t.label}
          </button>
        ))}
      </div>
      {tab === 'commission' && <CommissionAction />}
      {tab === 'leave' && <RemovalAction key="leave" kind="leave" />}
      {tab === 'recover' && <RemovalAction key="recover" kind="recover" />}
      {tab === 'suspect' && <SuspectAction />}
    </div>
  );
}
