import { useEffect, useMemo, useState } from 'react';
import type { CampaignSummary, TrustedKeyView } from '../../../preload/api.js';
import { CampaignDetail } from '../components/CampaignDetail.js';
import { DataTable, numeric } from '../components/DataTable.js';
import { Problems } from '../components/ErrorList.js';
import { useMemberIds } from '../components/useMemberIds.js';
import { FirmwareStaging } from '../components/FirmwareStaging.js';
import { SubmitForm } from '../components/SubmitForm.js';
import { type Resource, useAction, useApp, useEvents, useResource } from '../context.js';
import { campaignNoteHeadline, campaignNoteText, campaignOutcome, campaignProgress } from '../logic/campaign.js';
import { formatBytes } from '../logic/costScale.js';
import { formatTime, isHex } from '../logic/format.js';
import { parseMeterIds } from '../logic/meterIds.js';

/** Firmware: stage and verify packages, the vendor keys trusted, push campaigns and follow them. */
export function Firmware() {
  const packages = useResource((a) => a.firmwarePackages(), []);
  const trustedKeys = useResource((a) => a.trustedKeys(), []);
  const campaignList = useResource((a) => a.campaigns(), [], [], 1000);
  const [campaigns, setCampaigns] = useState<readonly CampaignSummary[]>([]);
  const [selected, setSelected] = useState<number | undefined>(undefined);

  useEffect(() => {
    if (campaignList.data) setCampaigns(campaignList.data);
  }, [campaignList.data]);
  const merge = (c: CampaignSummary) => setCampaigns((list) => (list.some((x) => x.id === c.id) ? list.map((x) => (x.id === c.id ? c : x)) : [c, ...list]));
  useEvents(['campaign'], (event) => event.type === 'campaign' && merge(event.campaign));

  return (
    <div className="screen">
      <h2>Firmware</h2>
      <div className="split">
        <FirmwareStaging onStaged={packages.reload} />
        <TrustedKeys keys={trustedKeys} />
      </div>
      <ModelTrust onRecorded={trustedKeys.reload} />
      <section className="panel" aria-label="Staged packages">
        <h3>Staged packages</h3>
        <DataTable
          testId="firmware-packages"
          compact
          columns={[numeric('#'), 'Vendor', 'Model', 'Version', numeric('Sequence'), numeric('Size'), 'Package digest', 'Staged']}
          empty={packages.data?.length === 0 && 'No package staged.'}
        >
          {(packages.data ?? []).map((p) => (
            <tr key={p.id} data-testid={`firmware-package-${p.id}`}>
              <td className="num">{p.id}</td>
              <td>{p.manifest.vendor}</td>
              <td>{p.manifest.model}</td>
              <td>{p.manifest.version}</td>
              <td className="num">{p.manifest.sequence}</td>
              <td className="num">{formatBytes(p.manifest.size)}</td>
              <td className="mono">{p.packageDigest.slice(0, 16)}…</td>
              <td>{formatTime(p.stagedAt)}</td>
            </tr>
          ))}
        </DataTable>
      </section>
      <PushForm
        packages={packages.data ?? []}
        onPushed={(c) => {
          merge(c);
          setSelected(c.id);
        }}
      />
      <section className="panel" aria-label="Campaigns">
        <h3>Campaigns</h3>
        <DataTable testId="firmware-campaigns" compact columns={[numeric('#'), 'Firmware', 'Status', 'Progress', 'Created']} empty={campaigns.length === 0 && 'No campaign yet.'}>
          {campaigns.map((c) => {
            const p = campaignProgress(c);
            return (
              <tr key={c.id} data-testid={`firmware-campaign-${c.id}`} className={`clickable ${selected === c.id ? 'selected' : ''}`} onClick={() => setSelected(c.id)}>
                <td className="num">{c.id}</td>
                <td>
                  {c.manifest.model} {c.manifest.version}
                </td>
                <td>
                  <span className={`campaign-status cs-${campaignOutcome(c).tone}`}>{campaignOutcome(c).label}</span>
                  {c.note && (
                    <div className="muted" data-testid={`firmware-campaign-note-${c.id}`} title={campaignNoteText(c.note)}>
                      {campaignNoteHeadline(c.note)}
                    </div>
                  )}
                </td>
                <td>
                  {p.done}/{p.meters} verified, {p.activated} activated{p.failed ? `, ${p.failed} failed` : ''}
                </td>
                <td>{formatTime(c.createdAt)}</td>
              </tr>
            );
          })}
        </DataTable>
      </section>
      {selected !== undefined && <CampaignDetail key={selected} id={selected} onChanged={merge} />}
    </div>
  );
}

function TrustedKeys({ keys }: { readonly keys: Resource<readonly TrustedKeyView[]> }) {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const [label, setLabel] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const valid = label.trim() !== '' && isHex(publicKey.trim(), 64);
  const trust = async () => {
    const list = await run(() => api.trustKey(label.trim(), publicKey.trim().toLowerCase()), 'trust key');
    if (list) {
      inform(`vendor key ${label.trim()} trusted`);
      setLabel('');
      setPublicKey('');
      keys.reload();
    }
  };
  return (
    <section className="panel" aria-label="Trusted keys">
      <h3>Trusted vendor keys</h3>
      <DataTable testId="firmware-trusted-keys" compact columns={['Label', 'Public key', 'Added']}>
        {(keys.data ?? []).map((k) => (
          <tr key={k.publicKey}>
            <td>{k.label}</td>
            <td className="mono" title={k.publicKey}>
              {k.publicKey.slice(0, 16)}…
            </td>
            <td>{formatTime(k.addedAt)}</td>
          </tr>
        ))}
      </DataTable>
      <SubmitForm className="form" onSubmit={trust}>
        <div className="row">
          <label>
            Label
            <input data-testid="trust-label" value={label} onChange={(e) => setLabel(e.target.value)} />
          </label>
          <label className="grow">
            Ed25519 public key (64 hex digits)
            <input data-testid="trust-public-key" className="mono" value={publicKey} onChange={(e) => setPublicKey(e.target.value)} />
          </label>
        </div>
        <button type="submit" data-testid="trust-submit" disabled={busy || !valid}>
          Trust this key
        </button>
      </SubmitForm>
    </section>
  );
}

/**
 * Which vendor keys each model's meters were provisioned to trust (issue 15): staging and push refuse,
 * for a model with a record, a package signed by any other key, because every meter would reject it
 * only after the whole transfer. A model with no record only warns.
 */
function ModelTrust({ onRecorded }: { readonly onRecorded: () => void }) {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const models = useResource((a) => a.modelTrust(), ['group']);
  const [model, setModel] = useState('');
  const [publicKey, setPublicKey] = useState('');
  const [label, setLabel] = useState('');
  const valid = model.trim() !== '' && isHex(publicKey.trim(), 64);
  const record = async () => {
    const input = { model: model.trim(), publicKey: publicKey.trim().toLowerCase(), ...(label.trim() ? { label: label.trim() } : {}) };
    const list = await run(() => api.trustKeyForModel(input), 'record model trust');
    if (list) {
      inform(`meters of model ${input.model} recorded to trust ${input.publicKey.slice(0, 16)}…`);
      setPublicKey('');
      setLabel('');
      models.reload();
      onRecorded();
    }
  };
  return (
    <section className="panel" aria-label="Keys each model trusts">
      <h3>Keys each model's meters trust</h3>
      <DataTable testId="firmware-model-trust" compact columns={['Model', numeric('Members'), 'Trusted signing keys']} empty={models.data?.length === 0 && 'No members and no record yet.'}>
        {(models.data ?? []).map((m) => (
          <tr key={m.model} data-testid={`firmware-model-${m.model}`}>
            <td>{m.model}</td>
            <td className="num">{m.members}</td>
            <td>
              {m.keys.length === 0 ? (
                <span className="warn-text" data-testid="firmware-model-unrecorded">
                  no record: staging only warns
                </span>
              ) : (
                m.keys.map((k) => (
                  <div key={k.publicKey} title={k.publicKey}>
                    {k.label} <span className="mono">{k.publicKey.slice(0, 16)}…</span>
                  </div>
                ))
              )}
            </td>
          </tr>
        ))}
      </DataTable>
      <SubmitForm className="form" onSubmit={record}>
        <div className="row">
          <label>
            Model
            <input data-testid="model-trust-model" list="firmware-models" value={model} onChange={(e) => setModel(e.target.value)} />
            <datalist id="firmware-models">
              {(models.data ?? []).map((m) => (
                <option key={m.model} value={m.model} />
              ))}
            </datalist>
          </label>
          <label className="grow">
            Ed25519 public key its meters were provisioned with (64 hex digits)
            <input data-testid="model-trust-public-key" className="mono" value={publicKey} onChange={(e) => setPublicKey(e.target.value)} />
          </label>
          <label>
            Label (for a key not yet trusted)
            <input data-testid="model-trust-label" value={label} onChange={(e) => setLabel(e.target.value)} />
          </label>
        </div>
        <button type="submit" data-testid="model-trust-submit" disabled={busy || !valid}>
          Record this model's trust
        </button>
      </SubmitForm>
    </section>
  );
}

function PushForm({ packages, onPushed }: { readonly packages: readonly { id: number; manifest: { model: string; version: string } }[]; readonly onPushed: (c: CampaignSummary) => void }) {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const [packageId, setPackageId] = useState<number | undefined>(undefined);
  const [meters, setMeters] = useState('');
  const [blockSize, setBlockSize] = useState('256');
  const { known, serials } = useMemberIds();
  const parsed = useMemo(() => parseMeterIds(meters, { known, serials }), [meters, known, serials]);
  const chosen = packageId ?? packages[packages.length - 1]?.id;
  const block = Number(blockSize);
  const blockValid = Number.isInteger(block) && block >= 16 && block <= 4096;
  const push = async () => {
    if (chosen === undefined) return;
    const c = await run(
      () => api.pushFirmware({ packageId: chosen, meters: parsed.ids.length > 0 ? parsed.ids : undefined, blockSize: block }),
      'push firmware',
    );
    if (c) {
      inform(`campaign ${c.id} created for ${c.meters} meters`);
      onPushed(c);
    }
  };
  return (
    <SubmitForm className="panel form" testId="firmware-push-form" onSubmit={push}>
      <h3>Push a package</h3>
      <div className="row">
        <label>
          Package
          <select data-testid="push-package" value={chosen ?? ''} onChange={(e) => setPackageId(Number(e.target.value))}>
            {packages.length === 0 && <option value="">— stage a package first —</option>}
            {packages.map((p) => (
              <option key={p.id} value={p.id}>
                #{p.id} {p.manifest.model} {p.manifest.version}
              </option>
            ))}
          </select>
        </label>
        <label>
          Block size (bytes)
          <input data-testid="push-block-size" inputMode="numeric" value={blockSize} onChange={(e) => setBlockSize(e.target.value)} />
        </label>
        <label className="grow">
          Meters: ids, ranges or serials (empty: every member of the package's model)
          <input data-testid="push-meters" value={meters} onChange={(e) => setMeters(e.target.value)} />
        </label>
      </div>
      <Problems problems={[...parsed.problems, ...(blockValid ? [] : ['block size: a whole number from 16 to 4096'])]} testId="push-problems" />
      {parsed.summary !== '' && (
        <p className="review" data-testid="push-resolved">
          {parsed.summary}
        </p>
      )}
      <button type="submit" className="primary" data-testid="push-submit" disabled={busy || chosen === undefined || parsed.problems.length > 0 || !blockValid}>
        Push firmware
      </button>
    </SubmitForm>
  );
}
