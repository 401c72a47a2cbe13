// `npm run i18n` (also run by postinstall and typecheck): compiles messages/{en,ko}.json into typed message
// functions in src/shared/i18n/paraglide, so a missing or misspelt key is a type error. The options are
// paraglide.config.json, which the Vite plugin in electron.vite.config.ts reads too. The locale is set
// by the app (the remembered choice or the system's), never from a cookie or the URL: a global variable,
// else English. This fails loudly where the message-format plugin cannot load: Paraglide itself only warns
// and then emits no messages at all.
import { compile } from '@inlang/paraglide-js';
import { existsSync } from 'node:fs';
import options from '../paraglide.config.json' with { type: 'json' };

await compile({ ...options, silent: true });
if (!existsSync(`${options.outdir}/messages/app_title.js`)) {
  console.error('i18n: Paraglide compiled no messages (is @inlang/plugin-message-format installed?)');
  process.exit(1);
}
