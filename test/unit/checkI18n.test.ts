// scripts/check-i18n.mjs, as `npm run lint` runs it: a component with literal text fails with file:line, one
// whose text comes from the catalogues passes, and catalogues that disagree on keys or leave one empty fail.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { catalogueProblems } from '../../scripts/check-i18n.mjs';

const check = (file: string) => spawnSync(process.execPath, ['scripts/check-i18n.mjs', file], { encoding: 'utf8' });

test('a component with literal text fails, naming the file, line and text', () => {
  const result = check('test/fixtures/i18n/Literal.svelte');
  assert.equal(result.status, 1);
  assert.match(result.stderr, /Literal\.svelte:5: literal text "Add one"/);
  assert.match(result.stderr, /Literal\.svelte:5: literal text "Add"/);
  // "×" and the count are not language.
  assert.doesNotMatch(result.stderr, /Literal\.svelte:6/);
});

test('a component whose text comes from the catalogues passes', () => {
  const result = check('test/fixtures/i18n/Localised.svelte');
  assert.equal(result.stderr, '');
  assert.equal(result.status, 0);
});

test('catalogues with different keys or an empty value are reported', () => {
  const problems = catalogueProblems({ en: { $schema: 'x', a: 'A', b: 'B' }, ko: { $schema: 'x', a: ' ' } });
  assert.deepEqual(problems, ['messages/ko.json: a is empty', 'messages/ko.json: b is missing']);
});
