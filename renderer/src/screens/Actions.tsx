import { useState } from 'react';
import { CommissionAction } from '../components/CommissionAction.js';
import { RemovalAction } from '../components/RemovalAction.js';

const TABS = [
  { id: 'commission', label: 'Commission' },
  { id: 'leave', label: 'Leave' },
  { id: 'recover', label: 'Recovery' },
] as const;

/** Group changes, each planned first, shown, then executed deliberately. */
export function Actions() {
  const [tab, setTab] = useState<(typeof TABS)[number]['id']>('commission');
  return (
    <div className="screen">
      <h2>Actions</h2>
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
    </div>
  );
}
