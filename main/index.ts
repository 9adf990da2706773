import { hostname, userInfo } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { app, BrowserWindow, session } from 'electron';
import { EVENT_CHANNEL } from '../preload/api.js';
import { Backend } from './app/backend.js';
import { registerIpc } from './ipc/index.js';
import { appPage, isSamePage } from './shell/appPage.js';

/*
 * The Electron shell: one window, locked down per the Electron security checklist. Everything the
 * app does goes through main/ipc; nothing else here should grow beyond wiring.
 */

// The preload is CommonJS on purpose: a sandboxed renderer cannot load an ESM preload.
const preloadPath = fileURLToPath(new URL('../preload/index.cjs', import.meta.url));
const rendererFile = fileURLToPath(new URL('../renderer/index.html', import.meta.url));

const page = appPage({ packaged: app.isPackaged, env: process.env, rendererFile });

/** The app's own page (any hash or query); every other URL is foreign. */
const isAppPage = (url: string): boolean => isSamePage(page.url, url);

/*
 * Also in renderer/index.html as a meta tag: Chromium applies no response headers to file:// pages,
 * so the header covers the dev server and the meta tag covers the built app. Vite's dev server
 * injects CSS as <style> elements, hence the one relaxation in dev.
 */
const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  page.devServer ? "style-src 'self' 'unsafe-inline'" : "style-src 'self'",
  "img-src 'self' data:",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "frame-src 'none'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join('; ');

function lockDownSession(): void {
  session.defaultSession.webRequest.onHeadersReceived((details, callback) => {
    callback({
      responseHeaders: {
        ...details.responseHeaders,
        'Content-Security-Policy': [CONTENT_SECURITY_POLICY],
      },
    });
  });
  // The app needs no web permission (serial ports are opened by the main process, not Web Serial).
  session.defaultSession.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
}

// The desktop app runs the embedded simulated DC until the operator connects a real one.
const backend = new Backend({
  dataDir: app.getPath('userData'),
  actor: `${userInfo().username}@${hostname()} (desktop)`,
  simulated: {},
  // packaged, the demo vendor key is an extra resource (electron-builder.yml), outside app.asar
  vendorKeyFile: app.isPackaged ? join(process.resourcesPath, 'firmware', 'demo-vendor.pub') : undefined,
});
const ipc = registerIpc({ app: { name: app.getName(), version: app.getVersion() }, isAppPage, backend });

let mainWindow: BrowserWindow | null = null;

// Events go to the app's own window only, and only while it shows the app's page.
backend.subscribe((event) => {
  const contents = mainWindow?.webContents;
  if (contents && !contents.isDestroyed() && isAppPage(contents.getURL())) contents.send(EVENT_CHANNEL, event);
});

function createWindow(): BrowserWindow {
  const window = new BrowserWindow({
    width: 1280,
    height: 800,
    minWidth: 800,
    minHeight: 500,
    title: 'GREP Key Manager',
    show: false,
    webPreferences: {
      preload: preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      nodeIntegrationInSubFrames: false,
      webSecurity: true,
      allowRunningInsecureContent: false,
      webviewTag: false,
    },
  });
  ipc.trust(window.webContents);
  window.once('ready-to-show', () => window.show());
  window.on('closed', () => {
    if (mainWindow === window) mainWindow = null;
  });
  // the very URL isAppPage compares against
  void window.loadURL(page.url.href);
  return window;
}

// Single instance: a second launch focuses the running window instead of opening a second
// Key Manager on the same store.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.enableSandbox();

  app.on('second-instance', () => {
    if (mainWindow === null) return;
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
  });

  // Applied to every web contents, so no window or frame escapes the rules.
  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (event, url) => {
      if (!isAppPage(url)) event.preventDefault();
    });
    contents.on('will-redirect', (event, url) => {
      if (!isAppPage(url)) event.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });

  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });

  // The store, the link and the simulator close before the process goes.
  let closed = false;
  app.on('will-quit', (event) => {
    if (closed) return;
    event.preventDefault();
    void backend.close().finally(() => {
      closed = true;
      ipc.dispose();
      app.quit();
    });
  });

  app.on('activate', () => {
    if (BrowserWindow.getAllWindows().length === 0) mainWindow = createWindow();
  });

  void app.whenReady().then(() => {
    lockDownSession();
    mainWindow = createWindow();
  });
}
