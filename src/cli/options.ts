// Flag parsers for the CLI: each rejects bad input with a message commander prints as `error: ...`.
import { InvalidArgumentError, Option } from 'commander';
import { AUGMENT_STRENGTHS, BACKEND_CHOICES, SEED_RECIPE, type AugmentStrength, type BackendChoice } from '@shared/training';
import { StudioFailure } from '@shared/errors';
import { RECIPE_FIELDS, type RecipeKey } from '@shared/recipe';
import { INPUT_MODES, parseInput, type InputMode, type InputShape } from '@shared/modelSpec';

export function integer(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const n = Number(value);
    if (!/^-?\d+$/.test(value.trim()) || !Number.isSafeInteger(n) || n < min || n > max) {
      throw new InvalidArgumentError(`expected an integer from ${min} to ${max}`);
    }
    return n;
  };
}

export function real(min: number, max: number, { minOpen = false, maxOpen = false } = {}) {
  return (value: string): number => {
    const n = Number(value);
    const low = minOpen ? n > min : n >= min;
    const high = maxOpen ? n < max : n <= max;
    if (value.trim() === '' || !Number.isFinite(n) || !low || !high) {
      throw new InvalidArgumentError(`expected a number ${minOpen ? '>' : '>='} ${min} and ${maxOpen ? '<' : '<='} ${max}`);
    }
    return n;
  };
}

export function backend(value: string): BackendChoice {
  if (!(BACKEND_CHOICES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${BACKEND_CHOICES.join(', ')}`);
  return value as BackendChoice;
}

/** `--augment [strength]`: bare, the strong ranges (bench/augment.ts: the better of the two off MNIST); a strength by name; anything else refused. */
export function augmentOption(): Option {
  return new Option(`--augment [strength]`, `vary the training images: ${AUGMENT_STRENGTHS.join(', ')} (default: none)`)
    .preset('strong')
    .argParser((value: string): AugmentStrength => {
      if (!(AUGMENT_STRENGTHS as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${AUGMENT_STRENGTHS.join(', ')}`);
      return value as AugmentStrength;
    });
}

/** A mistake in how the command was called: reported as one `error:` line, exit 2. */
export class UsageError extends StudioFailure {
  readonly code = 'bad-request';
}

/** A command that has already printed why it failed (predict, per file): exit 2 with nothing more to say. */
export class UsageExit extends StudioFailure {
  readonly code = 'bad-request';
}

export function inputShape(value: string): InputShape {
  const shape = parseInput(value);
  if (typeof shape === 'string') throw new InvalidArgumentError(shape);
  return shape;
}

export function mode(value: string): InputMode {
  if (!(INPUT_MODES as readonly string[]).includes(value)) throw new InvalidArgumentError(`expected one of ${INPUT_MODES.join(', ')}`);
  return value as InputMode;
}

/** A recipe field's flag: its bounds from the recipe table, its default the seed's recipe. */
export function recipeOption(key: RecipeKey): Option {
  const field = RECIPE_FIELDS.find((f) => f.key === key)!;
  const parse = field.integer ? integer(field.min, field.max) : real(field.min, field.max, { minOpen: field.minOpen, maxOpen: field.maxOpen });
  const option = new Option(`${field.flag} ${field.integer ? '<n>' : '<x>'}`, field.help).argParser(parse);
  const seed = SEED_RECIPE[key];
  return seed === undefined ? option : option.default(seed);
}
