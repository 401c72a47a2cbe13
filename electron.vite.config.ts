import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';

// Rolldown's plugin-timing report is noise on a slow or busy machine (it printed on every `npm start`).
const checks = { bundlerTimings: false };

export default defineConfig({
  main: {
    build: {
      rollupOptions: {
        // The trainer worker is its own entry: client.ts starts ./worker.js next to the main bundle.
        input: { index: resolve('src/main/index.ts'), worker: resolve('src/main/core/trainer/worker.ts') },
        checks,
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload cannot require packages: bundle everything into one CommonJS file.
      externalizeDeps: false,
      rollupOptions: { input: { index: resolve('src/preload/index.ts') }, output: { format: 'cjs', entryFileNames: '[name].cjs' }, checks },
    },
  },
  renderer: {
    root: 'src/renderer',
    plugins: [svelte()],
    build: { rollupOptions: { input: resolve('src/renderer/index.html'), checks } },
  },
});
