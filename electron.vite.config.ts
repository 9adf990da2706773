import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';
import type { Plugin } from 'vite';

/**
 * Vite's dev server injects CSS as <style> elements, which the page's CSP (style-src 'self') blocks.
 * Relax exactly that, and only while serving: the built page keeps the strict policy of index.html.
 */
const devStyleCsp = (): Plugin => ({
  name: 'grep:dev-style-csp',
  apply: 'serve',
  transformIndexHtml: (html) => html.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
});

export default defineConfig({
  main: { build: { lib: { entry: resolve(import.meta.dirname, 'main/index.ts') } } },
  preload: {
    // CommonJS so Electron can load it with the sandbox on (an ESM preload needs sandbox: false).
    build: {
      lib: { entry: resolve(import.meta.dirname, 'preload/index.ts'), formats: ['cjs'] },
      rolldownOptions: { output: { entryFileNames: 'index.cjs' } },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'renderer'),
    build: { rolldownOptions: { input: resolve(import.meta.dirname, 'renderer/index.html') } },
    plugins: [react(), devStyleCsp()],
  },
});
