import { useState } from 'react';
import type { GrepApi, SessionInfo } from '../../../preload/api.js';
import { SubmitForm } from '../components/SubmitForm.js';
import { errorText } from '../logic/format.js';

export const MIN_PASSPHRASE = 8;

/** The gate: nothing else is reachable until the store is created (new) or opened (locked). */
export function Unlock({ api, session, onUnlocked }: { readonly api: GrepApi; readonly session: SessionInfo; readonly onUnlocked: (s: SessionInfo) => void }) {
  const creating = session.state === 'new';
  const [passphrase, setPassphrase] = useState('');
  const [repeat, setRepeat] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<{ code: string; message: string } | undefined>(undefined);

  const problem =
    passphrase.length < MIN_PASSPHRASE
      ? `at least ${MIN_PASSPHRASE} characters`
      : creating && repeat !== passphrase
        ? 'the two passphrases differ'
        : undefined;

  const submit = async () => {
    if (problem !== undefined) return;
    setBusy(true);
    setError(undefined);
    try {
      onUnlocked(await api.unlock(passphrase));
    } catch (e) {
      setError(errorText(e));
      setPassphrase('');
      setRepeat('');
    } finally {
      setBusy(false);
    }
  };

  return (
    <div className="unlock">
      <SubmitForm className="panel unlock-form" testId="unlock-form" onSubmit={submit}>
        <h2>{creating ? 'Create the key store' : 'Unlock the key store'}</h2>
        <p className="muted">
          {creating ? 'Choose a passphrase: it seals every group key in ' : 'The group keys are sealed in '}
          <code>{session.storePath}</code>
        </p>
        <label>
          Passphrase
          <input type="password" autoFocus autoComplete={creating ? 'new-password' : 'current-password'} data-testid="unlock-passphrase" value={passphrase} onChange={(e) => setPassphrase(e.target.value)} />
        </label>
        {creating && (
          <label>
            Repeat the passphrase
            <input type="password" autoComplete="new-password" data-testid="unlock-repeat" value={repeat} onChange={(e) => setRepeat(e.target.value)} />
          </label>
        )}
        {problem !== undefined && passphrase.length > 0 && <p className="hint" data-testid="unlock-problem">{problem}</p>}
        <button type="submit" className="primary" data-testid="unlock-submit" disabled={busy || problem !== undefined}>
          {busy ? 'Opening…' : creating ? 'Create and unlock' : 'Unlock'}
        </button>
        {error !== undefined && (
          <p className="status-error" role="alert" data-testid="unlock-error">
            <strong>{error.code}</strong> {error.message}
          </p>
        )}
      </SubmitForm>
    </div>
  );
}
