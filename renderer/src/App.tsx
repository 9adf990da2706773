import { type ReactNode, useCallback, useEffect, useMemo, useRef, useState, useSyncExternalStore } from 'react';
import type { GrepApi, LinkView, RunningOperationView, SessionInfo } from '../../preload/api.js';
import { type BackEnd, connectBackEnd } from './backend.js';
import { RunningNow } from './components/RunningNow.js';
import { AppContext, type AppContextValue, type StatusMessage, statusFromError } from './context.js';
import { dcQueueText } from './logic/dcQueue.js';
import { errorText } from './logic/format.js';
import { type BackEndState, backEndText, type Reachability } from './logic/reachability.js';
import { afterChange, statusWorld } from './logic/statusLine.js';
import { throttle } from './logic/throttle.js';
import { Actions } from './screens/Actions.js';
import { Audit } from './screens/Audit.js';
import { Commands } from './screens/Commands.js';
import { Connection } from './screens/Connection.js';
import { Firmware } from './screens/Firmware.js';
import { Group } from './screens/Group.js';
import { History } from './screens/History.js';
import { Unlock } from './screens/Unlock.js';

const backEnd = connectBackEnd();
/** how often an unreachable back end is asked whether it is back */
const PROBE_MS = 2000;
const BACK_END_BADGE: Readonly<Record<Exclude<BackEndState['state'], 'reachable'>, string>> = {
  unreachable: 'console back end unreachable',
  restarted: 'console restarted',
  refused: 'session token refused',
};

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
  if (backEnd === undefined)
    return (
      <Shell>
        <p className="status status-warning" role="status" data-testid="no-back-end">
          No back end connected: open the console URL with its #token=… fragment, or start the desktop app.
        </p>
      </Shell>
    );
  return <WithBackEnd backEnd={backEnd} />;
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

function WithBackEnd({ backEnd }: { readonly backEnd: BackEnd }) {
  const { api, reachability } = backEnd;
  const [session, setSession] = useState<SessionInfo | undefined>(undefined);
  const [failure, setFailure] = useState<{ code: string; message: string } | undefined>(undefined);

  useEffect(() => {
    api.session().then(setSession, (e: unknown) => setFailure(errorText(e)));
  }, [api]);

  if (failure !== undefined)
    return (
      <Shell>
        <p className="status status-error" role="alert" data-testid="back-end-failed">
          {failure.code === 'TOKEN' ? `${backEndText({ state: 'refused' })} ` : 'The back end did not answer: '}
          <strong>{failure.code}</strong> {failure.message}
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
  return <Ready api={api} reachability={reachability} initial={session} />;
}

function useReachability(reachability: Reachability) {
  return useSyncExternalStore(
    useCallback((listener: () => void) => reachability.subscribe(listener), [reachability]),
    () => reachability.state,
  );
}

function Ready({ api, reachability, initial }: { readonly api: GrepApi; readonly reachability: Reachability; readonly initial: SessionInfo }) {
  const [session, setSession] = useState(initial);
  const [link, setLink] = useState<LinkView | undefined>(undefined);
  const [running, setRunning] = useState<readonly RunningOperationView[]>([]);
  const [status, setStatus] = useState<StatusMessage | undefined>(undefined);
  const [screen, setScreen] = useState<ScreenId>(() => (initial.group?.members ? 'group' : 'actions'));
  const backEndState = useReachability(reachability);
  const reconnects = reachability.reconnects;
  const world = statusWorld(session.group, running.map((op) => op.planId), reconnects);
  const worldNow = useRef(world);
  worldNow.current = world;

  const report = useCallback((error: unknown, what?: string) => {
    console.error(what ?? 'error', error);
    setStatus(statusFromError(error, what, worldNow.current));
  }, []);
  const inform = useCallback((message: string, code = 'OK') => setStatus({ kind: 'info', code, message, at: new Date().toISOString() }), []);
  const settle = useCallback((what: string) => setStatus((s) => afterChange(s, { kind: 'succeeded', what })), []);
  useEffect(() => setStatus((s) => afterChange(s, { kind: 'world', world })), [world]);

  useEffect(() => {
    // on mount and after the back end came back: the events of the gap are lost, so everything is asked again
    api.linkState().then(setLink, (e: unknown) => report(e, 'link state'));
    api.runningOperations().then(setRunning, (e: unknown) => report(e, 'running operations'));
    if (reconnects > 0) api.session().then(setSession, (e: unknown) => report(e, 'session'));
  }, [api, report, reconnects]);

  useEffect(() => {
    if (backEndState.state !== 'unreachable') return;
    // calls can fail while the event stream still stands (a proxy, the browser offline): ask now and then, so the page heals by itself
    const probe = setInterval(() => api.session().then(setSession, () => undefined /* the call told `reachability`: the header shows it */), PROBE_MS);
    return () => clearInterval(probe);
  }, [api, backEndState.state]);

  useEffect(() => {
    const refreshSession = throttle(() => {
      api.session().then(setSession, (e: unknown) => report(e, 'session'));
    }, 500);
    const unsubscribe = api.subscribe((event) => {
      if (event.type === 'link') setLink(event.link);
      else if (event.type === 'operations') setRunning(event.operations);
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

  const context = useMemo<AppContextValue>(() => ({ api, session, report, inform, settle, reconnects }), [api, session, report, inform, settle, reconnects]);
  const backEndAlert = backEndText(backEndState);
  const queue = dcQueueText(link?.dc);
  const current = SCREENS.find((s) => s.id === screen) ?? SCREENS[0];

  return (
    <AppContext.Provider value={context}>
      <Shell
        header={
          <div className="header-facts">
            <span data-testid="header-group">{session.group ? `Group ${session.group.name}` : 'No group yet'}</span>
            <span data-testid="header-epoch">epoch {session.group?.epoch ?? '—'}</span>
            <span data-testid="header-members">{session.group?.members ?? 0} members</span>
            {backEndState.state === 'reachable' ? (
              <span className={`link-badge link-${link?.state ?? 'unknown'}`} data-testid="header-link">
                DC {link?.state ?? '…'}
                {link?.profile ? ` (${link.profile})` : ''}
              </span>
            ) : (
              // the DC's state is whatever the console last said: unknown while the console itself is gone
              <span className="link-badge link-gone" data-testid="header-link">
                {BACK_END_BADGE[backEndState.state]}
              </span>
            )}
            {queue !== undefined && backEndState.state === 'reachable' && (
              <span className="badge" data-testid="header-dc-queue">
                {queue}
              </span>
            )}
            {session.simulated && <span className="badge">simulated DC</span>}
          </div>
        }
        status={
          <>
            {backEndAlert !== undefined && (
              <p className="back-end-alert" role="alert" data-testid="back-end-alert">
                {backEndAlert}
              </p>
            )}
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
          </>
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
          {/* an edited input no longer matches what an error on the status line said of it */}
          <main className="app-main" data-testid={`screen-${current.id}`} onInput={() => setStatus((s) => afterChange(s, { kind: 'input' }))}>
            <RunningNow operations={running} link={link} />
            <current.Screen />
          </main>
        </div>
      </Shell>
    </AppContext.Provider>
  );
}
