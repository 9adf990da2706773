/** What of the browser window this needs, so it runs (and is tested) without a DOM. */
export interface TokenWindow {
  readonly location: { readonly pathname: string; readonly search: string; readonly hash: string };
  readonly history: { readonly state: unknown; replaceState(state: unknown, unused: string, url: string): void };
  readonly sessionStorage: { getItem(key: string): string | null; setItem(key: string, value: string): void };
}

export const TOKEN_STORAGE_KEY = 'grep-console-token';

/**
 * The console's session token, taken from the `#token=…` fragment of the URL the console printed.
 * The fragment is then dropped from the address bar with replaceState, so the token does not stay
 * in the browser's history (where anyone with the profile, or a history sync, would find a working
 * credential for as long as the console runs). It is kept in sessionStorage so a reload of this tab
 * still works; a new tab or window needs the printed URL again.
 */
export function takeSessionToken(page: TokenWindow): string | undefined {
  const fragment = new URLSearchParams(page.location.hash.slice(1));
  const given = fragment.get('token');
  if (!given) return page.sessionStorage.getItem(TOKEN_STORAGE_KEY) || undefined;
  page.sessionStorage.setItem(TOKEN_STORAGE_KEY, given);
  fragment.delete('token');
  const rest = fragment.toString();
  page.history.replaceState(page.history.state, '', `${page.location.pathname}${page.location.search}${rest === '' ? '' : `#${rest}`}`);
  return given;
}
