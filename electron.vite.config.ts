import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import react from '@vitejs/plugin-react';

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
    plugins: [react()],
  },
});
