// The language is a setting the service owns: setLocale tells every page with a numbered event and keeps the
// choice under the app's home, so the next start (a second window, a reload) shows the same language; a
// damaged settings file means the system's language, never a failed start.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { StudioService } from '@core/service/studioService';
import { readSettings, settingsFile } from '@core/store/settings';
import { applyEvent, type StudioEvent } from '@shared/studioState';
import { tempDir } from '../support/helpers';

test('setLocale publishes the choice, keeps it under the home and the next service starts with it', async () => {
  const home = tempDir();
  const first = new StudioService({ home });
  const events: StudioEvent[] = [];
  first.onEvent((e) => events.push(e));
  try {
    const page = first.getState();
    assert.deepEqual(page.settings, { locale: 'system' });
    const reply = await first.dispatch('setLocale', { locale: 'ko' });
    assert.deepEqual(reply, { ok: true, value: { locale: 'ko' } });
    assert.deepEqual(
      events.map((e) => e.type),
      ['settings-changed'],
    );
    for (const e of events) applyEvent(page, e);
    assert.deepEqual(page, first.getState(), 'a page that folds the event in holds the service state');
    assert.deepEqual(JSON.parse(readFileSync(settingsFile(home), 'utf8')), { locale: 'ko' });
  } finally {
    await first.close();
  }
  const second = new StudioService({ home });
  try {
    assert.equal(second.getState().settings.locale, 'ko');
    const refused = await second.dispatch('setLocale', { locale: 'fr' });
    assert.equal(!refused.ok && refused.error.code, 'bad-request');
    assert.equal(second.getState().settings.locale, 'ko');
  } finally {
    await second.close();
  }
});

test('a damaged or foreign settings file starts with the system language', async () => {
  for (const text of ['{', '{"locale":"fr"}', '[1,2]', 'null']) {
    const home = tempDir();
    writeFileSync(settingsFile(home), text);
    const service = new StudioService({ home });
    try {
      assert.equal(service.getState().settings.locale, 'system', text);
    } finally {
      await service.close();
    }
  }
});

test('a damaged settings file is one line saying why; a missing one says nothing', () => {
  for (const [text, why] of [
    ['{', /settings\.json: not JSON; the default settings are used$/],
    ['[1,2]', /settings\.json: not a JSON object; the default settings are used$/],
    ['{"locale":"fr"}', /settings\.json: a language this app does not have/],
  ] as const) {
    const home = tempDir();
    writeFileSync(settingsFile(home), text);
    const lines: string[] = [];
    assert.equal(readSettings(home, (line) => lines.push(line)).locale, 'system', text);
    assert.equal(lines.length, 1, text);
    assert.match(lines[0]!, why);
  }
  const lines: string[] = [];
  readSettings(tempDir(), (line) => lines.push(line));
  assert.deepEqual(lines, []);
});

test('setLocale keeps the keys it does not know, and a folder where the file goes is one clear refusal', async () => {
  const home = tempDir();
  writeFileSync(settingsFile(home), '{"locale":"ko","theme":"dark","later":{"a":1}}');
  const service = new StudioService({ home });
  try {
    assert.deepEqual(await service.dispatch('setLocale', { locale: 'en' }), { ok: true, value: { locale: 'en' } });
    assert.deepEqual(JSON.parse(readFileSync(settingsFile(home), 'utf8')), { locale: 'en', theme: 'dark', later: { a: 1 } });
  } finally {
    await service.close();
  }
  const blocked = tempDir();
  mkdirSync(settingsFile(blocked));
  const second = new StudioService({ home: blocked });
  try {
    const refused = await second.dispatch('setLocale', { locale: 'ko' });
    assert.equal(!refused.ok && refused.error.code, 'bad-request');
    assert.match(!refused.ok ? refused.error.message : '', /settings\.json: a folder is in its place/);
  } finally {
    await second.close();
  }
});
