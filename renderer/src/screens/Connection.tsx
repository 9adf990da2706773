import { useState } from 'react';
import type { DcProfileInput, LinkView, SerialPortView } from '../../../preload/api.js';
import { DataTable } from '../components/DataTable.js';
import { SubmitForm } from '../components/SubmitForm.js';
import { useAction, useApp, useEvents, useResource } from '../context.js';
import { formatTime, isHex } from '../logic/format.js';

const BAUDS = [9600, 19200, 38400, 57600, 115200, 230400, 460800, 921600];

/** DC profiles, the serial ports the main process sees, connect/disconnect and the live link. */
export function Connection() {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const profiles = useResource((a) => a.dcProfiles(), []);
  const [link, setLink] = useState<LinkView | undefined>(undefined);
  const linkResource = useResource((a) => a.linkState(), []);
  useEvents(['link'], (event) => event.type === 'link' && setLink(event.link));
  const view = link ?? linkResource.data;

  const connect = async (name: string) => {
    const result = await run(() => api.connect(name), `connect ${name}`);
    if (result) setLink(result);
  };
  const disconnect = async () => {
    const result = await run(() => api.disconnect(), 'disconnect');
    if (result) {
      setLink(result);
      inform('disconnected from the DC');
    }
  };

  return (
    <div className="screen">
      <h2>Connection</h2>
      <section className="panel" aria-label="Link">
        <h3>Link to the Data Concentrator</h3>
        {view === undefined ? <p className="muted">…</p> : <LinkFacts link={view} />}
        <div className="row">
          <button type="button" data-testid="connection-disconnect" disabled={busy || view === undefined || view.state === 'disconnected'} onClick={() => void disconnect()}>
            Disconnect
          </button>
        </div>
      </section>

      <section className="panel" aria-label="Profiles">
        <h3>DC profiles</h3>
        <DataTable testId="connection-profiles" columns={['Name', 'Transport', 'Address', '']} empty={profiles.data?.length === 0 && 'No profile yet: add one below.'}>
          {(profiles.data ?? []).map((p) => (
            <tr key={p.name} data-testid={`connection-profile-${p.name}`}>
              <td>{p.name}</td>
              <td>{p.transport}</td>
              <td>{p.transport === 'tcp' ? `${p.host}:${p.port}` : `${p.path} @ ${p.baud} baud`}</td>
              <td>
                <button type="button" className="primary small" data-testid={`connection-connect-${p.name}`} disabled={busy || (view?.profile === p.name && view.state !== 'disconnected')} onClick={() => void connect(p.name)}>
                  Connect
                </button>
              </td>
            </tr>
          ))}
        </DataTable>
      </section>
      <ProfileForm onSaved={profiles.reload} />
    </div>
  );
}

function LinkFacts({ link }: { readonly link: LinkView }) {
  const dialout = link.detail !== undefined && /dialout|permission/i.test(link.detail);
  return (
    <>
      {link.detail !== undefined && (
        <p className={`link-detail ${dialout ? 'hint-box' : 'status-error'}`} data-testid="connection-link-detail" role="alert">
          {link.detail}
        </p>
      )}
      <dl className="facts" data-testid="connection-link">
        <dt>State</dt>
        <dd>
          <span className={`link-badge link-${link.state}`} data-testid="connection-link-state">
            {link.state}
          </span>
        </dd>
        <dt>Profile</dt>
        <dd>{link.profile ?? '—'}</dd>
        <dt>Since</dt>
        <dd>{formatTime(link.since)}</dd>
        <dt>Pending transfers</dt>
        <dd data-testid="connection-link-pending">{link.pending}</dd>
        <dt>DC</dt>
        <dd data-testid="connection-dc">
          {link.dc === undefined
            ? '—'
            : `${link.dc.meters} meters, ${link.dc.queued} queued, epoch ${link.dc.epoch}, ${link.dc.airtimeSeconds.toFixed(1)} s airtime`}
        </dd>
      </dl>
    </>
  );
}

function ProfileForm({ onSaved }: { readonly onSaved: () => void }) {
  const { api, inform } = useApp();
  const { busy, run } = useAction();
  const [name, setName] = useState('');
  const [transport, setTransport] = useState<'tcp' | 'serial'>('tcp');
  const [host, setHost] = useState('127.0.0.1');
  const [port, setPort] = useState('4059');
  const [path, setPath] = useState('');
  const [baud, setBaud] = useState(115200);
  const [pairingKey, setPairingKey] = useState('');
  const [ports, setPorts] = useState<readonly SerialPortView[] | undefined>(undefined);

  const refreshPorts = async () => {
    const found = await run(() => api.serialPorts(), 'serial ports');
    if (found) setPorts(found);
  };

  const portNumber = Number(port);
  const problems = [
    name.trim() === '' ? 'a name' : undefined,
    transport === 'tcp' && host.trim() === '' ? 'a host' : undefined,
    transport === 'tcp' && !(Number.isInteger(portNumber) && portNumber > 0 && portNumber < 65536) ? 'a port 1…65535' : undefined,
    transport === 'serial' && path === '' ? 'a serial port' : undefined,
    !isHex(pairingKey.trim()) ? 'the pairing key in hex' : undefined,
  ].filter((p): p is string => p !== undefined);

  const save = async () => {
    const profile: DcProfileInput =
      transport === 'tcp'
        ? { name: name.trim(), transport, host: host.trim(), port: portNumber, pairingKey: pairingKey.trim() }
        : { name: name.trim(), transport, path, baud, pairingKey: pairingKey.trim() };
    const saved = await run(() => api.saveDcProfile(profile), 'save profile');
    if (saved) {
      setPairingKey('');
      inform(`profile ${profile.name} saved`);
      onSaved();
    }
  };

  return (
    <SubmitForm className="panel form" testId="connection-profile-form" onSubmit={save}>
      <h3>Add or replace a profile</h3>
      <label>
        Name
        <input data-testid="profile-name" value={name} onChange={(e) => setName(e.target.value)} />
      </label>
      <fieldset className="inline">
        <legend>Transport</legend>
        <label className="check">
          <input type="radio" name="transport" data-testid="profile-transport-tcp" checked={transport === 'tcp'} onChange={() => setTransport('tcp')} /> TCP
        </label>
        <label className="check">
          <input
            type="radio"
            name="transport"
            data-testid="profile-transport-serial"
            checked={transport === 'serial'}
            onChange={() => {
              setTransport('serial');
              if (ports === undefined) void refreshPorts();
            }}
          />{' '}
          Serial
        </label>
      </fieldset>
      {transport === 'tcp' ? (
        <div className="row">
          <label>
            Host
            <input data-testid="profile-host" value={host} onChange={(e) => setHost(e.target.value)} />
          </label>
          <label>
            Port
            <input data-testid="profile-port" inputMode="numeric" value={port} onChange={(e) => setPort(e.target.value)} />
          </label>
        </div>
      ) : (
        <div className="row">
          <label>
            Serial port
            {/* a typed path too: a PTY or an unusual adapter is never in the list */}
            <input
              data-testid="profile-serial-path"
              list="serial-ports"
              placeholder="/dev/ttyUSB0, or pick one found"
              value={path}
              onChange={(e) => setPath(e.target.value.trim())}
            />
            <datalist id="serial-ports">
              {(ports ?? []).map((p) => (
                <option key={p.path} value={p.path}>
                  {[p.manufacturer, p.serialNumber ? `S/N ${p.serialNumber}` : '', p.vendorId ? `${p.vendorId}:${p.productId ?? '?'}` : ''].filter(Boolean).join(' · ')}
                </option>
              ))}
            </datalist>
          </label>
          <button type="button" data-testid="profile-serial-refresh" disabled={busy} onClick={() => void refreshPorts()}>
            Refresh ports
          </button>
          <label>
            Baud
            <select data-testid="profile-baud" value={baud} onChange={(e) => setBaud(Number(e.target.value))}>
              {BAUDS.map((b) => (
                <option key={b} value={b}>
                  {b}
                </option>
              ))}
            </select>
          </label>
        </div>
      )}
      {transport === 'serial' && ports !== undefined && ports.length === 0 && <p className="hint">No serial port found.</p>}
      <label>
        Pairing key (hex)
        <input type="password" autoComplete="off" data-testid="profile-pairing-key" value={pairingKey} onChange={(e) => setPairingKey(e.target.value)} />
      </label>
      <div className="row">
        <button type="submit" className="primary" data-testid="profile-save" disabled={busy || problems.length > 0}>
          Save profile
        </button>
        {problems.length > 0 && <span className="hint">needs {problems.join(', ')}</span>}
      </div>
    </SubmitForm>
  );
}
