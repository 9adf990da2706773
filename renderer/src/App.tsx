import { useEffect, useState } from 'react';
import type { AppInfo } from '../../preload/api.js';
import { connectBackEnd } from './backend.js';

const api = connectBackEnd();

type BackEnd =
  | { readonly state: 'absent' }
  | { readonly state: 'asking' }
  | { readonly state: 'connected'; readonly info: AppInfo }
  | { readonly state: 'failed'; readonly message: string };

export function App() {
  const [backEnd, setBackEnd] = useState<BackEnd>(() =>
    api === undefined ? { state: 'absent' } : { state: 'asking' },
  );

  useEffect(() => {
    if (api === undefined) return;
    let current = true;
    api.appInfo().then(
      (info) => current && setBackEnd({ state: 'connected', info }),
      (error: unknown) =>
        current && setBackEnd({ state: 'failed', message: error instanceof Error ? error.message : String(error) }),
    );
    return () => {
      current = false;
    };
  }, []);

  return (
    <div className="app">
      <header className="app-header">
        <h1>GREP Key Manager</h1>
      </header>
      <main className="app-main">
        <BackEndStatus backEnd={backEnd} />
      </main>
    </div>
  );
}

function BackEndStatus({ backEnd }: { readonly backEnd: BackEnd }) {
  switch (backEnd.state) {
    case 'absent':
      return (
        <p className="status status-warning" role="status">
          No back end connected
        </p>
      );
    case 'asking':
      return (
        <p className="status" role="status">
          Connecting to the back end…
        </p>
      );
    case 'failed':
      return (
        <p className="status status-error" role="alert">
          The back end did not answer: {backEnd.message}
        </p>
      );
    case 'connected':
      return (
        <dl className="app-info" aria-label="Back end">
          <dt>Name</dt>
          <dd data-testid="app-name">{backEnd.info.name}</dd>
          <dt>Version</dt>
          <dd data-testid="app-version">{backEnd.info.version}</dd>
          <dt>Protocol version</dt>
          <dd data-testid="protocol-version">{backEnd.info.protocolVersion}</dd>
        </dl>
      );
  }
}
