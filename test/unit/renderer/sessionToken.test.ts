import { describe, expect, test } from 'vitest';
import { TOKEN_STORAGE_KEY, type TokenWindow, takeSessionToken } from '../../../renderer/src/logic/sessionToken.js';

/** A tab: its address (which replaceState changes, as a browser does), its history entry state and its sessionStorage. */
function tab(href: string, stored: Record<string, string> = {}) {
  const storage = new Map(Object.entries(stored));
  const replaced: { state: unknown; url: string }[] = [];
  const page = {
    location: new URL(href),
    history: {
      state: { scroll: 12 } as unknown,
      replaceState(state: unknown, _unused: string, url: string) {
        replaced.push({ state, url });
        page.location = new URL(url, page.location);
      },
    },
    sessionStorage: {
      getItem: (key: string) => storage.get(key) ?? null,
      setItem: (key: string, value: string) => void storage.set(key, value),
    },
  } satisfies TokenWindow;
  return { page, storage, replaced };
}

const TOKEN = 'a1'.repeat(32);

describe('console session token', () => {
  test('is read from the fragment, which then leaves the address (and so the history entry)', () => {
    const { page, storage, replaced } = tab(`http://127.0.0.1:4321/#token=${TOKEN}`);
    expect(takeSessionToken(page)).toBe(TOKEN);
    expect(page.location.href).toBe('http://127.0.0.1:4321/');
    expect(page.location.href).not.toContain(TOKEN);
    expect(replaced).toEqual([{ state: { scroll: 12 }, url: '/' }]);
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe(TOKEN);
  });

  test('a reload of the same tab (no fragment any more) gets it from sessionStorage', () => {
    const first = tab(`http://127.0.0.1:4321/#token=${TOKEN}`);
    takeSessionToken(first.page);
    const reloaded = tab(first.page.location.href, Object.fromEntries(first.storage));
    expect(takeSessionToken(reloaded.page)).toBe(TOKEN);
    expect(reloaded.replaced).toEqual([]);
  });

  test('the printed URL opened again wins over a token left from an earlier console run', () => {
    const { page, storage } = tab(`http://127.0.0.1:4321/?view=1#token=${TOKEN}`, { [TOKEN_STORAGE_KEY]: 'stale' });
    expect(takeSessionToken(page)).toBe(TOKEN);
    expect(storage.get(TOKEN_STORAGE_KEY)).toBe(TOKEN);
    expect(page.location.href).toBe('http://127.0.0.1:4321/?view=1');
  });

  test('other fragment parameters stay, only the token goes', () => {
    const { page } = tab(`http://127.0.0.1:4321/#screen=audit&token=${TOKEN}`);
    expect(takeSessionToken(page)).toBe(TOKEN);
    expect(page.location.hash).toBe('#screen=audit');
  });

  test('no fragment and nothing stored: no back end, and the address is left alone', () => {
    for (const href of ['http://127.0.0.1:4321/', 'http://127.0.0.1:4321/#token=']) {
      const { page, replaced } = tab(href);
      expect(takeSessionToken(page)).toBeUndefined();
      expect(replaced).toEqual([]);
    }
  });
});
