/**
 * Whether the page still reaches its back end: the console process may die or restart under an open
 * page, and a header that kept saying "DC connected" then would be a lie. The event stream and the
 * calls report here what they saw; the header shows the result.
 *
 * The console issues a new random session token on every start (main/console/server.ts), so a
 * restarted console refuses this page's token: that is said plainly, it never heals by itself.
 */
export type BackEndState =
  | { readonly state: 'reachable' }
  | { readonly state: 'unreachable'; readonly since: string; readonly detail: string }
  /** the console accepted this page's token before and refuses it now: it restarted with a new one */
  | { readonly state: 'restarted' }
  /** the token was refused from the first call: an old or mistyped address */
  | { readonly state: 'refused' };

export class Reachability {
  private current: BackEndState = { state: 'reachable' };
  private accepted = false;
  /** how many times the back end came back after a loss: what was fetched (or failed to be) in between is stale, the screens refetch */
  private recoveries = 0;
  private readonly listeners = new Set<() => void>();

  get state(): BackEndState {
    return this.current;
  }

  get reconnects(): number {
    return this.recoveries;
  }

  subscribe(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => void this.listeners.delete(listener);
  }

  /** the back end answered with this page's token */
  reached(): void {
    this.accepted = true;
    if (this.current.state !== 'unreachable') return;
    this.recoveries++;
    this.set({ state: 'reachable' });
  }

  /** the event stream reopened after it was lost: the events of the gap are gone, even if a call got through meanwhile */
  resumed(): void {
    this.accepted = true;
    this.recoveries++;
    this.set({ state: 'reachable' });
  }

  /** a call or the stream failed to reach the back end; the first failure's time is kept */
  lost(detail: string, now: Date = new Date()): void {
    if (this.current.state === 'restarted' || this.current.state === 'refused') return;
    if (this.current.state === 'unreachable' && this.current.detail === detail) return;
    const since = this.current.state === 'unreachable' ? this.current.since : now.toISOString();
    this.set({ state: 'unreachable', since, detail });
  }

  /** the back end answered 401: this page's token is not (or no longer) the console's */
  refused(): void {
    const next = this.accepted ? 'restarted' : 'refused';
    if (this.current.state === next) return;
    this.set({ state: next });
  }

  private set(state: BackEndState): void {
    this.current = state;
    for (const listener of [...this.listeners]) listener();
  }
}

/** What the header says of the back end when it is not simply there. */
export function backEndText(state: BackEndState): string | undefined {
  switch (state.state) {
    case 'reachable':
      return undefined;
    case 'unreachable':
      return `The console back end is unreachable since ${new Date(state.since).toLocaleTimeString(undefined, { hour12: false })} (${state.detail}); retrying by itself. What the page shows is as of then.`;
    case 'restarted':
      return 'The console restarted: reopen the address it printed (its session token changed). Nothing on this page is current any more.';
    case 'refused':
      return 'The console refused this address\'s session token: open the address the console printed.';
  }
}
