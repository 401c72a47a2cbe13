// `npm run lint` runs this: user-visible text left as a literal in a component, outside the message
// catalogues, is reported with file:line, and the catalogues must have the same keys, none empty.
// Usage: node scripts/check-i18n.mjs [file.svelte | folder ...] (default: src/renderer). Exit 1 on findings.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { parse } from 'svelte/compiler';

/** Attributes whose literal values a person reads (or hears). */
const ATTRIBUTES = new Set(['title', 'placeholder', 'aria-label', 'alt', 'aria-description', 'label']);
/** Text that is not language: symbols, units, names of formats and of the dataset. */
const ALLOWED = new Set(['×', '✕', '…', 'px', 'ms', 'MNIST', 'ONNX', 'IDX', 'PNG', 'JPEG', 'BMP', 'x']);
/** Sizes such as 5x5 or 28x28x1 are numbers, not words. */
const hasLetters = (text) => /\p{L}/u.test(text.replace(/\d+(x\d+)+/g, ''));

function svelteFiles(path) {
  if (statSync(path).isFile()) return path.endsWith('.svelte') ? [path] : [];
  return readdirSync(path, { withFileTypes: true }).flatMap((entry) =>
    entry.name === 'node_modules' || entry.name === 'paraglide' ? [] : svelteFiles(join(path, entry.name)),
  );
}

/** The literal text in one component that should come from the catalogues: { line, text } each. */
export function literalsIn(source) {
  const ast = parse(source, { modern: true });
  const lineAt = (offset) => source.slice(0, offset).split('\n').length;
  const found = [];
  const report = (node, text) => {
    const shown = text.replace(/\s+/g, ' ').trim();
    if (hasLetters(shown) && !ALLOWED.has(shown)) found.push({ line: lineAt(node.start), text: shown });
  };
  const visit = (node) => {
    if (!node || typeof node !== 'object') return;
    if (Array.isArray(node)) return node.forEach(visit);
    if (node.type === 'Text') return report(node, node.data);
    if (node.type === 'Attribute') {
      if (ATTRIBUTES.has(node.name.toLowerCase()) && Array.isArray(node.value))
        for (const part of node.value) if (part.type === 'Text') report(part, part.data);
      return; // other attributes (class, role, data-testid, type) are code, not language
    }
    // Scripts and styles are not markup; expressions are checked by review (a string there is code's).
    if (node.type === 'Script' || node.type === 'StyleSheet' || node.type === 'ExpressionTag') return;
    for (const [key, value] of Object.entries(node)) if (key !== 'parent' && key !== 'metadata') visit(value);
  };
  visit(ast.fragment);
  return found;
}

/** A message's texts: the string itself, or each variant of a message with variants (plurals). */
const texts = (message) =>
  typeof message === 'string' ? [message] : Array.isArray(message) ? message.flatMap((m) => Object.values(m?.match ?? {})).map(String) : [];

/** Problems with the catalogues: keys one has and the other lacks, empty values. */
export function catalogueProblems(catalogues) {
  const problems = [];
  const keys = (messages) => Object.keys(messages).filter((k) => k !== '$schema');
  const all = new Set(Object.values(catalogues).flatMap(keys));
  for (const [locale, messages] of Object.entries(catalogues)) {
    for (const key of all) {
      if (!(key in messages)) problems.push(`messages/${locale}.json: ${key} is missing`);
      else if (!texts(messages[key]).length || texts(messages[key]).some((t) => t.trim() === '')) problems.push(`messages/${locale}.json: ${key} is empty`);
    }
  }
  return problems;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const targets = process.argv.slice(2);
  const problems = [];
  for (const file of (targets.length ? targets : ['src/renderer']).flatMap(svelteFiles)) {
    for (const { line, text } of literalsIn(readFileSync(file, 'utf8')))
      problems.push(`${relative('.', file)}:${line}: literal text ${JSON.stringify(text.slice(0, 60))} (put it in messages/*.json)`);
  }
  const catalogues = Object.fromEntries(['en', 'ko'].map((locale) => [locale, JSON.parse(readFileSync(`messages/${locale}.json`, 'utf8'))]));
  problems.push(...catalogueProblems(catalogues));
  for (const problem of problems) console.error(problem);
  if (problems.length) {
    console.error(`i18n: ${problems.length} problem${problems.length === 1 ? '' : 's'}`);
    process.exit(1);
  }
}
