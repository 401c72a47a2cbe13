// The training recipe's number fields, once. The schema that checks a recipe (TrainConfigSchema), the
// CLI's flags and the app's form are all built from this table, so a bound, a flag or a label is
// changed here and nowhere else. It imports nothing but the schema library.
import { z } from 'zod';

export interface RecipeField {
  key: string;
  /** The form's label. */
  label: string;
  /** The CLI's flag (its value is `<n>` for whole numbers, `<x>` for the rest). */
  flag: `--${string}`;
  /** The CLI's help line, where the flag and its default do not say enough. */
  help?: string;
  integer: boolean;
  min: number;
  max: number;
  /** The bound itself is refused: more than min, less than max (for real numbers). */
  minOpen?: boolean;
  maxOpen?: boolean;
  /** The form's step, which the number input's arrows move by. */
  step: string;
  /** May be left out: no limit, or the machine's own choice. */
  optional?: boolean;
  /**
   * How this machine runs the recipe, not what it trains: the form leaves it out, and a resumed run
   * may change it (the CLI's --resume refuses the other recipe flags).
   */
  machine?: boolean;
}

/** In the order the form shows them and the CLI's help lists them. */
const TABLE = [
  { key: 'epochs', label: 'Epochs', flag: '--epochs', integer: true, min: 1, max: 1000, step: '1' },
  { key: 'batchSize', label: 'Batch size', flag: '--batch-size', integer: true, min: 1, max: 1024, step: '1' },
  { key: 'learningRate', label: 'Learning rate', flag: '--learning-rate', integer: false, min: 0, minOpen: true, max: 10, step: '0.001' },
  { key: 'momentum', label: 'Momentum', flag: '--momentum', integer: false, min: 0, max: 1, maxOpen: true, step: '0.01' },
  { key: 'seed', label: 'Seed', flag: '--seed', integer: true, min: 0, max: 0xffffffff, step: '1' },
  {
    key: 'trainLimit',
    label: 'Train limit',
    flag: '--train-limit',
    help: 'train on the first N images',
    integer: true,
    min: 1,
    max: 1e9,
    step: '1',
    optional: true,
  },
  {
    key: 'testLimit',
    label: 'Test limit',
    flag: '--test-limit',
    help: 'test on the first N images',
    integer: true,
    min: 1,
    max: 1e9,
    step: '1',
    optional: true,
  },
  {
    key: 'threads',
    label: 'Threads',
    flag: '--threads',
    help: 'threads for the wasm and native backends (default: cores, up to 4)',
    integer: true,
    min: 1,
    max: 64,
    step: '1',
    optional: true,
    machine: true,
  },
] as const satisfies readonly RecipeField[];

type Row = (typeof TABLE)[number];
export type RecipeKey = Row['key'];

export type RecipeRow = RecipeField & { key: RecipeKey };
export const RECIPE_FIELDS: readonly RecipeRow[] = TABLE;

/** The fields a person sets in the app's form. */
export const FORM_FIELDS = RECIPE_FIELDS.filter((f) => !f.machine);

const bound = (n: number): string => n.toLocaleString('en-US');

/** Messages a person can act on: the form shows them beside each field, the API in its errors. */
function fieldSchema(field: RecipeField): z.ZodNumber {
  const number = z.number({ error: (issue) => (issue.input === undefined ? 'required' : 'a number') });
  let schema = field.integer ? number.int({ error: 'a whole number' }) : number.finite({ error: 'a number' });
  schema = field.minOpen ? schema.gt(field.min, { error: `more than ${bound(field.min)}` }) : schema.min(field.min, { error: `at least ${bound(field.min)}` });
  return field.maxOpen ? schema.lt(field.max, { error: `less than ${bound(field.max)}` }) : schema.max(field.max, { error: `at most ${bound(field.max)}` });
}

type RecipeShape = { [R in Row as R['key']]: R extends { optional: true } ? z.ZodOptional<z.ZodNumber> : z.ZodNumber };

/** The number fields' schemas, for TrainConfigSchema's object. */
export const RECIPE_SHAPE = Object.fromEntries(RECIPE_FIELDS.map((f) => [f.key, f.optional ? fieldSchema(f).optional() : fieldSchema(f)])) as RecipeShape;
