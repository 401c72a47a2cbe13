import { resolve } from 'node:path';
import { defineConfig } from 'electron-vite';
import { svelte } from '@sveltejs/vite-plugin-svelte';
import type { Plugin } from 'vite';
import { paraglideVitePlugin } from '@inlang/paraglide-js';
import paraglideOptions from './paraglide.config.json' with { type: 'json' };
import tsconfig from './tsconfig.base.json' with { type: 'json' };

// The path aliases (@shared, @core, @gpu) come from tsconfig.base.json, which tsc, svelte-check, tsx and
// esbuild read too: one list for every build.
const alias = Object.fromEntries(
  Object.entries(tsconfig.compilerOptions.paths).map(([key, [target]]) => [key.replace('/*', ''), resolve(target!.replace('/*', ''))]),
);

// Rolldown's plugin-timing report is noise on a slow or busy machine (it printed on every `npm start`).
const checks = { bundlerTimings: false };

// `npm run dev` only: Vite's dev server injects each component's CSS as a <style> element, which the page's
// strict CSP (style-src 'self') blocks. Production builds extract CSS to files and keep the strict policy.
const devInlineStyles: Plugin = {
  name: 'dev-inline-styles',
  apply: 'serve',
  transformIndexHtml: (html) => html.replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
};

// The message catalogues compile on every build too, so an edit to messages/*.json needs no extra step.
const i18n = paraglideVitePlugin({
  ...(paraglideOptions as Parameters<typeof paraglideVitePlugin>[0]),
  project: resolve(paraglideOptions.project),
  outdir: resolve(paraglideOptions.outdir),
});

export default defineConfig({
  main: {
    resolve: { alias },
    plugins: [i18n],
    build: {
      rollupOptions: {
        // The trainer worker is its own entry: client.ts starts ./worker.js next to the main bundle.
        input: { index: resolve('src/main/index.ts'), worker: resolve('src/core/trainer/worker.ts') },
        checks,
      },
    },
  },
  preload: {
    resolve: { alias },
    build: {
      // A sandboxed preload cannot require packages: bundle everything into one CommonJS file.
      externalizeDeps: false,
      rollupOptions: {
        input: { index: resolve('src/preload/index.ts'), compute: resolve('src/preload/compute.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
        checks,
      },
    },
  },
  renderer: {
    root: 'src/renderer',
    resolve: { alias },
    plugins: [svelte(), devInlineStyles, i18n],
    // The hidden compute window's page (the webgpu engine on Chromium's WebGPU) ships beside the app's.
    build: { rollupOptions: { input: { index: resolve('src/renderer/index.html'), compute: resolve('src/renderer/compute.html') }, checks } },
  },
});
