// ESLint (flat config): JavaScript's and typescript-eslint's recommended rules, and eslint-plugin-svelte's
// for the components. Formatting is Prettier's job (`npm run lint` runs both).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import { builtinModules } from 'node:module';

// The layering rule, in the manner of VS Code's: each folder names what it may not import. shared and gpu run
// everywhere (Node, the page, the compute page); core is plain Node; only main and preload see Electron.
const NODE = ['node:*', ...builtinModules];
const SHELLS = ['**/main/**', '**/cli/**', '**/host/**', '**/renderer/**', '**/preload/**'];
const layer = (files, group, message) => ({
  files,
  rules: { 'no-restricted-imports': ['error', { patterns: [{ group, message }] }] },
});
const LAYERS = [
  layer(
    ['src/shared/**'],
    [...NODE, 'electron', '@core/*', '@gpu/*', '../*', ...SHELLS],
    'src/shared imports only src/shared (it runs in Node, the page and the worker alike).',
  ),
  layer(
    ['src/gpu/**'],
    [...NODE, 'electron', '@core/*', '../*', ...SHELLS],
    'src/gpu runs in Node (Dawn) and in the compute page: it imports only src/shared.',
  ),
  layer(['src/core/**'], ['electron', ...SHELLS], 'src/core is plain Node: it imports src/shared and src/gpu, never Electron or a shell.'),
  layer(['src/host/**', 'src/cli/**'], ['electron', '**/main/**', '**/renderer/**', '**/preload/**'], 'The browser host and the CLI run without Electron.'),
  layer(['src/preload/**'], [...NODE, '@core/*', '@gpu/*', '**/main/**', '**/renderer/**'], 'A sandboxed preload imports only electron and src/shared.'),
  layer(
    ['src/renderer/**'],
    [...NODE, 'electron', '@core/*', '@gpu/*', '**/main/**', '**/cli/**', '**/host/**', '**/preload/**'],
    'The renderer imports only src/shared.',
  ),
  // The compute page runs the WebGPU kernels themselves.
  layer(
    ['src/renderer/src/compute/**'],
    [...NODE, 'electron', '@core/*', '**/main/**', '**/cli/**', '**/host/**', '**/preload/**'],
    'The compute page imports only src/shared and src/gpu.',
  ),
];

export default tseslint.config(
  { ignores: ['out/', 'dist/', 'node_modules/', 'test-results/', 'playwright-report/', 'resources/', 'docs/', 'src/shared/i18n/paraglide/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  ...svelte.configs.recommended,
  { languageOptions: { globals: { ...globals.node } } },
  {
    files: ['src/renderer/**', 'src/shared/**'],
    languageOptions: { globals: { ...globals.browser } },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    rules: {
      // A leading underscore marks a parameter that a signature requires but the body does not use.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      // `cond && (x = y)`, `a ? f() : g()` and `(a += x), b++` as statements are this codebase's idiom, which
      // the rule cannot tell from a forgotten call; TypeScript's checks catch most of those.
      '@typescript-eslint/no-unused-expressions': 'off',
      // `interface A extends B {}` names a role (EpochEnd is a RunStart).
      '@typescript-eslint/no-empty-object-type': ['error', { allowInterfaces: 'with-single-extends' }],
      // Keys matter where items move; the static lists here (tabs, table rows rebuilt whole) need none.
      'svelte/require-each-key': 'off',
      // `{' '}` keeps a space that Svelte would trim at the edge of a block.
      'svelte/no-useless-mustaches': 'off',
    },
  },
  {
    files: ['src/main/**', 'src/core/**', 'src/host/**', 'src/cli/**'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.name=/^mkdir/] Property[key.name='recursive']",
          message: "Node's recursive mkdir spins forever on a path under /proc: use makeFolders (store/files.ts).",
        },
      ],
    },
  },
  ...LAYERS,
  // Playwright's fixtures take their dependencies as a destructured first argument, `{}` when there are none.
  { files: ['e2e/**'], rules: { 'no-empty-pattern': 'off' } },
  // Tests build hostile and malformed objects on purpose.
  { files: ['test/**'], rules: { '@typescript-eslint/no-explicit-any': 'off' } },
);
