import { type ReactNode, useCallback, useEffect, useMemo, useState } from 'react';
import type { GrepApi, LinkView, SessionInfo } from '../../preload/api.js';
import { connectBackEnd } from './backend.js';
import { AppContext, type AppContextValue, type StatusMessage, statusFromError } from './context.js';
import { errorText } from './logic/format.js';
import { throttle } from './logic/throttle.js';
import { Actions } from './screens/Actions.js';
import { Audit } from './screens/Audit.js';
import { Commands } from './screens/Commands.js';
import { Connection } from './screens/Connection.js';
import { Firmware } from './screens/Firmware.js';
import { Group } from './screens/Group.js';
import { History } from './screens/History.js';
import { Unlock } from './screens/Unlock.js';

const api = connectBackEnd();

const SCREENS = [
  { id: 'connection', label: 'Connection', Screen: Connection },
  { id: 'group', label: 'Group', Screen: Group },
  { id: 'history', label: 'History', Screen: History },
  { id: 'actions', label: 'Actions', Screen: Actions },
  { id: 'firmware', label: 'Firmware', Screen: Firmware },
  { id: 'commands', label: 'Commands', Screen: Commands },
  { id: 'audit', label: 'Audit', Screen: Audit },
] as const;
type ScreenId = (typeof SCREENS)[number]['id'];

export function App() {
  if (api === undefined)
    return (
      <Shell>
        <p className="status status-warning" role="status" data-testid="no-back-end">
          No back end connected: open the console URL with its #token=… fragment, or start the desktop app.
        </p>
      </Shell>
    );
  return <WithBackEnd api={api} />;
}

function Shell({ children, header, status }: { readonly children: ReactNode; readonly header?: ReactNode; readonly status?: ReactNode }) {
  return (
    <div className="app">
      <header className="app-header">
        <div className="app-header-row">
          <h1>GREP Key Manager</h1>
          {header}
        </div>
        {status}
      </header>
      {children}
    </div>
  );
}

function WithBackEnd({ api }: { readonly api: GrepApi }) {
  const [session, setSession] = useState<SessionInfo | undefined>(undefined);
  const [failure, setFailure] = useState<{ code: string; message: string } | undefined>(undefined);

  useEffect(() => {
    api.session().then(setSession, (e: unknown) => setFailure(errorText(e)));
  }, [api]);

  if (failure !== undefined)
    return (
      <Shell>
        <p className="status status-error" role="alert" data-testid="back-end-failed">
          The back end did not answer: <strong>{failure.code}</strong> {failure.message}
        </p>
      </Shell>
    );
  if (session === undefined)
    return (
      <Shell>
        <p className="status" role="status">
          Connecting to the back end…
        </p>
      </Shell>
    );
  if (session.state !== 'ready')
    return (
      <Shell>
        <Unlock api={api} session={session} onUnlocked={setSession} />
      </Shell>
    );
  return <Ready api={api} initial={session} />;
}

function Ready({ api, initial }: { readonly api: GrepApi; readonly initial: SessionInfo }) {
  const [session, setSession] = useState(initial);
  const [link, setLink] = useState<LinkView | undefined>(undefined);
  const [status, setStatus] = useState<StatusMessage | undefined>(undefined);
  const [screen, setScreen] = useState<ScreenId>(() => (initial.group?.members ? 'group' : 'actions'));

  const report = useCallback((error: unknown, what?: string) => {
    console.error(what ?? 'error', error);
    setStatus(statusFromError(error, what));
  }, []);
  const inform = useCallback((message: string) => setStatus({ kind: 'info', code: 'OK', message, at: new Date().toISOString() }), []);

  useEffect(() => {
    api.linkState().then(setLink, (e: unknown) => report(e, 'link state'));
    const refreshSession = throttle(() => {
      api.session().then(setSession, (e: unknown) => report(e, 'session'));
    }, 500);
    const unsubscribe = api.subscribe((event) => {
      if (event.type === 'link') setLink(event.link);
      else if (event.type === 'group') {
        setSession((s) => (s.group ? { ...s, group: { ...s.group, epoch: event.epoch } } : s));
        refreshSession();
      }
    });
    return () => {
      unsubscribe();
      refreshSession.cancel();
    };
  }, [api, report]);

  const context = useMemo<AppContextValue>(() => ({ api, session, report, inform }), [api, session, report, inform]);
  const current = SCREENS.find((s) => s.id === screen) ?? SCREENS[0];

  return (
    <AppContext.Provider value={context}>
      <Shell
        header={
          <div className="header-facts">
            <span data-testid="header-group">{session.group ? `Group ${session.group.name}` : 'No group yet'}</span>
            <span data-testid="header-epoch">epoch {session.group?.epoch ?? '—'}</span>
            <span data-testid="header-members">{session.group?.members ?? 0} members</span>
            <span className={`link-badge link-${link?.state ?? 'unknown'}`} data-testid="header-link">
              DC {link?.state ?? '…'}
              {link?.profile ? ` (${link.profile})` : ''}
            </span>
            {session.simulated && <span className="badge">simulated DC</span>}
          </div>
        }
        status={
          <div className={`status-line ${status?.kind === 'error' ? 'status-error' : ''}`} data-testid="status-line" role={status?.kind === 'error' ? 'alert' : 'status'}>
            {status === undefined ? (
              <span className="muted">Ready.</span>
            ) : (
              <>
                <strong data-testid="status-code">{status.code}</strong> <span data-testid="status-message">{status.message}</span>
                <span className="muted"> · {new Date(status.at).toLocaleTimeString(undefined, { hour12: false })}</span>
                <button type="button" className="link" data-testid="status-dismiss" onClick={() => setStatus(undefined)}>
                  dismiss
                </button>
              </>
            )}
          </div>
        }
      >
        <div className="app-body">
          <nav className="app-nav" aria-label="Screens">
            {SCREENS.map((s) => (
              <button key={s.id} type="button" data-testid={`nav-${s.id}`} className={s.id === screen ? 'active' : undefined} aria-current={s.id === screen ? 'page' : undefined} onClick={() => setScreen(s.id)}>
                {s.label}
              </button>
            ))}
          </nav>
          <main className="app-main" data-testid={`screen-${current.id}`}>
            <current.Screen />
          </main>
        </div>
      </Shell>
    </AppContext.Provider>
  );
}
