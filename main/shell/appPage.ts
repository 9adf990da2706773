import { pathToFileURL } from 'node:url';

/** What decides the page the desktop window loads. */
export interface PageSource {
  /** Electron's app.isPackaged */
  readonly packaged: boolean;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** the built renderer's index.html */
  readonly rendererFile: string;
}

export interface AppPage {
  /** exactly what the window loads */
  readonly url: URL;
  /** the Vite dev server, not the built files */
  readonly devServer: boolean;
}

/**
 * The built renderer, or electron-vite's dev server when `electron-vite dev` started this process: it
 * sets NODE_ENV_ELECTRON_VITE=development and ELECTRON_RENDERER_URL in its own environment, which the
 * Electron it spawns inherits. A packaged app never takes its page from the environment, whatever it
 * holds: an app a user launched must not load a page named by whoever set their variables.
 */
export function appPage(source: PageSource): AppPage {
  const devServerUrl = source.env['ELECTRON_RENDERER_URL'];
  if (!source.packaged && source.env['NODE_ENV_ELECTRON_VITE'] === 'development' && devServerUrl) {
    return { url: new URL(devServerUrl), devServer: true };
  }
  return { url: pathToFileURL(source.rendererFile), devServer: false };
}

/** The URL less its query and fragment: what names the page. */
function pageOf(url: URL): string {
  const page = new URL(url);
  page.search = '';
  page.hash = '';
  return page.href;
}

/**
 * True when `url` is the app's own page (any query or fragment): the same scheme, host, port and
 * path. The path alone is not enough: file://attacker/share/… has the app's path on another host
 * (a UNC share on Windows), and so does http://anything/opt/….
 */
export function isSamePage(page: URL, url: string): boolean {
  let target: URL;
  try {
    target = new URL(url);
  } catch {
    return false;
  }
  return pageOf(target) === pageOf(page);
}
