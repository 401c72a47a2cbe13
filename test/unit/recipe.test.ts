// The recipe table, the schema that checks a recipe and the CLI's flags agree: every field has a flag,
// and a value at or past each bound is accepted or refused alike, with the schema's message.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { InvalidArgumentError } from 'commander';
import { FORM_FIELDS, RECIPE_FIELDS, type RecipeRow } from '@shared/recipe';
import { SEED_RECIPE, TrainConfigSchema } from '@shared/training';
import { recipeOption } from '../../src/cli/options';

const kebab = (key: string): string => `--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;

/** The schema's first message for the field at this value, or undefined where it accepts it (batch 1: any limit is a batch). */
function schemaSays(field: RecipeRow, value: number): string | undefined {
  const parsed = TrainConfigSchema.safeParse({ ...SEED_RECIPE, batchSize: 1, [field.key]: value });
  return parsed.success ? undefined : parsed.error.issues.find((i) => i.path[0] === field.key)?.message;
}

/** What the CLI's option makes of the flag's text: the number, or the refusal. */
function cliSays(field: RecipeRow, text: string): number | InvalidArgumentError {
  const option = recipeOption(field.key);
  assert.ok(option.parseArg, `${field.flag} has a parser`);
  try {
    return option.parseArg<unknown>(text, undefined) as number;
  } catch (error) {
    assert.ok(error instanceof InvalidArgumentError, `${field.flag} ${text}: ${String(error)}`);
    return error;
  }
}

/** Values at each bound, just past it, and between whole numbers. */
function probes(f: RecipeRow): number[] {
  const step = f.integer ? 1 : 1e-6;
  return [f.min, f.min - step, f.max, f.max + step, f.integer ? Math.floor((f.min + f.max) / 2) : (f.min + f.max) / 2, ...(f.integer ? [f.min + 0.5] : [])];
}

test('every recipe field is in the schema, and every number in the schema is a field', () => {
  // The backend and augmentation are choices, not numbers: the form and the CLI have their own controls for them.
  const numbers = Object.keys(TrainConfigSchema.shape).filter((k) => !['backend', 'augment', 'augmentFlip'].includes(k));
  assert.deepEqual(RECIPE_FIELDS.map((f) => f.key).sort(), numbers.sort());
});

test('the schema refuses past each bound in the form’s words, and accepts the bounds the table allows', () => {
  for (const f of RECIPE_FIELDS) {
    const words = (n: number) => n.toLocaleString('en-US');
    assert.equal(schemaSays(f, f.min), f.minOpen ? `more than ${words(f.min)}` : undefined, `${f.key} at ${f.min}`);
    assert.equal(schemaSays(f, f.max), f.maxOpen ? `less than ${words(f.max)}` : undefined, `${f.key} at ${f.max}`);
    assert.equal(schemaSays(f, f.min - 1), f.minOpen ? `more than ${words(f.min)}` : `at least ${words(f.min)}`, f.key);
    assert.equal(schemaSays(f, f.max + 1), f.maxOpen ? `less than ${words(f.max)}` : `at most ${words(f.max)}`, f.key);
    if (f.integer) assert.equal(schemaSays(f, f.min + 0.5), 'a whole number', f.key);
    const parsed = TrainConfigSchema.safeParse({ ...SEED_RECIPE, [f.key]: undefined });
    assert.equal(parsed.success || parsed.error.issues[0]?.message, f.optional ? true : 'required', `${f.key} left out`);
  }
});

test('every field has its flag, and the flag accepts exactly what the schema accepts', () => {
  for (const f of RECIPE_FIELDS) {
    assert.equal(recipeOption(f.key).long, f.flag);
    assert.equal(f.flag, kebab(f.key));
    for (const value of probes(f)) {
      const cli = cliSays(f, String(value));
      const schema = schemaSays(f, value);
      assert.equal(cli instanceof InvalidArgumentError, schema !== undefined, `${f.flag} ${value}: the schema says ${schema ?? 'yes'}, the CLI ${String(cli)}`);
      if (!(cli instanceof InvalidArgumentError)) assert.equal(cli, value);
    }
    assert.ok(cliSays(f, 'fast') instanceof InvalidArgumentError, `${f.flag} fast`);
    assert.ok(cliSays(f, '') instanceof InvalidArgumentError, `${f.flag} ''`);
  }
});

test("the CLI's defaults are the seed's recipe, and the form shows every field a person sets", () => {
  for (const f of RECIPE_FIELDS) {
    const option = recipeOption(f.key);
    assert.equal(option.defaultValue, SEED_RECIPE[f.key], f.flag);
    assert.equal(option.flags, `${f.flag} ${f.integer ? '<n>' : '<x>'}`);
  }
  assert.deepEqual(
    FORM_FIELDS.map((f) => f.label),
    ['Epochs', 'Batch size', 'Learning rate', 'Momentum', 'Seed', 'Train limit', 'Test limit'],
  );
  for (const f of RECIPE_FIELDS) if (f.integer) assert.equal(f.step, '1', `${f.key} steps by whole numbers`);
});
