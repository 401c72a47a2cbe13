// The page's words for the app's own terms: recipe fields, run phases, typed errors and the form's
// problems. The shared code (and so the CLI) speaks English; the page turns codes into the chosen language.
import type { StudioError } from '@shared/errors';
import { RECIPE_FIELDS, type RecipeKey } from '@shared/recipe';
import { StudioCallError } from '@shared/api';
import { getLocale, m } from '@shared/i18n/locale';
import { integer } from './format';
import type { Phase } from './app.svelte';
import type { RunOutcome } from '@shared/runs';

export const recipeLabel = (key: RecipeKey): string =>
  ({
    epochs: m.recipe_epochs,
    batchSize: m.recipe_batch_size,
    learningRate: m.recipe_learning_rate,
    momentum: m.recipe_momentum,
    seed: m.recipe_seed,
    trainLimit: m.recipe_train_limit,
    testLimit: m.recipe_test_limit,
    threads: m.recipe_threads,
  })[key]();

/** A recipe setting's name as the page shows it ("batchSize" → "Batch size", "배치 크기"); the backend gets the
 * form's word too. A key the page has no word for (a newer record's) stays as written. */
export const configKeyLabel = (key: string): string =>
  key === 'backend' ? m.backend() : RECIPE_FIELDS.some((f) => f.key === key) ? recipeLabel(key as RecipeKey) : key;

/** A compared field ("config.batchSize") in the page's words where it is a recipe setting. */
export const compareFieldLabel = (field: string): string => (field.startsWith('config.') ? configKeyLabel(field.slice('config.'.length)) : field);

export const modeLabel = (mode: 'drawing' | 'photo'): string => (mode === 'drawing' ? m.mode_drawing() : m.mode_photo());

const OUTCOMES: Record<RunOutcome, () => string> = {
  running: m.outcome_running,
  finished: m.outcome_finished,
  stopped: m.outcome_stopped,
  failed: m.outcome_failed,
  interrupted: m.outcome_interrupted,
};
/** A run's outcome as the Runs view shows it (the filter's choices are the log's plain strings). */
export const outcomeLabel = (outcome: string): string => (Object.hasOwn(OUTCOMES, outcome) ? OUTCOMES[outcome as RunOutcome]() : outcome);

export const phaseLabel = (phase: Phase): string =>
  ({
    loading: m.phase_loading,
    idle: m.phase_idle,
    starting: m.phase_starting,
    training: m.phase_training,
    evaluating: m.phase_evaluating,
    saving: m.phase_saving,
    paused: m.phase_paused,
    done: m.phase_done,
    stopped: m.phase_stopped,
    failed: m.phase_failed,
  })[phase]();

const ERROR_SUMMARIES: Record<StudioError['code'], () => string> = {
  'bad-request': m.error_bad_request,
  cancelled: m.error_cancelled,
  'bad-data': m.error_bad_data,
  'bad-model': m.error_bad_model,
  'backend-unavailable': m.error_backend_unavailable,
  busy: m.error_busy,
  'no-model': m.error_no_model,
  'foreign-folder': m.error_foreign_folder,
  'model-exists': m.error_model_exists,
  'worker-failed': m.error_worker_failed,
  'backend-failed': m.error_backend_failed,
  internal: m.error_internal,
};

/**
 * A failed call or run in the page's language. The app's messages are English and name the exact file or
 * field; in another language the page says what kind of failure it is first, and keeps the detail.
 */
export function errorText(error: unknown): string {
  const studio: StudioError | undefined = error instanceof StudioCallError ? error.studio : isStudioError(error) ? error : undefined;
  const message = studio?.message ?? (error as Error)?.message ?? String(error);
  if (!studio || getLocale() === 'en') return message;
  return m.error_with_detail({ summary: ERROR_SUMMARIES[studio.code](), detail: message });
}
const isStudioError = (e: unknown): e is StudioError =>
  typeof e === 'object' && e !== null && typeof (e as StudioError).code === 'string' && (e as StudioError).code in ERROR_SUMMARIES;

/** What a zod issue on a recipe field says, as the form shows it beside the field. */
export function fieldProblem(
  issue: { code: string; message: string; expected?: unknown; minimum?: unknown; maximum?: unknown; inclusive?: boolean },
  empty: boolean,
): string {
  const bound = (n: unknown): string => (typeof n === 'number' || typeof n === 'bigint' ? integerOrDecimal(Number(n)) : String(n));
  switch (issue.code) {
    case 'invalid_type':
      if (issue.expected === 'int') return m.problem_whole_number();
      return empty ? m.problem_required() : m.problem_number();
    case 'too_small':
      return issue.inclusive ? m.problem_at_least({ bound: bound(issue.minimum) }) : m.problem_more_than({ bound: bound(issue.minimum) });
    case 'too_big':
      return issue.inclusive ? m.problem_at_most({ bound: bound(issue.maximum) }) : m.problem_less_than({ bound: bound(issue.maximum) });
    default:
      return issue.message; // the recipe's cross-field rules (limits beyond the dataset) name their numbers
  }
}
const integerOrDecimal = (n: number): string => (Number.isInteger(n) ? integer(n) : String(n));
