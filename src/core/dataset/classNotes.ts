// What a person should hear about a dataset's classes before training on it: a class with no training
// images (the model cannot learn it), one with no test images (the test accuracy does not cover it),
// label numbers no image has (an IDX set whose labels skip numbers, as EMNIST letters skip 0), and, where
// most classes are empty, a request for classes.txt. Image folders, IDX folders and the history of a run
// all say it through this one writer, so they say it the same way. Keras takes such classes all the same;
// so do we: these are notes, not refusals.

/** Names shown in a note before "and N more": a note stays one short line at 256 classes. */
const NAMED = 5;

/** Up to five items, then "and N more". */
export function someOf(items: string[]): string {
  return items.slice(0, NAMED).join(', ') + (items.length > NAMED ? ` and ${items.length - NAMED} more` : '');
}

const quoted = (names: string[]): string => someOf(names.map((n) => JSON.stringify(n)));
const those = (n: number): string => (n === 1 ? 'that class' : 'those classes');

export interface ClassCounts {
  /** Class names, in label order. */
  classes: string[];
  /** Images per class, in label order. */
  train: number[];
  test: number[];
}

/**
 * IDX sets say more: their classes are label numbers, so a class no image has is a number the labels
 * skip; and without a classes.txt, most classes empty (or a test label no training image has) is more
 * likely labels that are not class numbers than a dataset meant that way.
 */
export interface IdxLabels {
  classesFile: string;
  /** Whether the folder has its classes.txt (then it is not asked for). */
  named: boolean;
}

export function emptyClassNotes({ classes, train, test }: ClassCounts, idx?: IdxLabels): string[] {
  const labels = classes.map((_, k) => k);
  // In an IDX set, a label no image has gets its own note rather than a place in both lists below.
  const skipped = idx ? labels.filter((k) => train[k] === 0 && test[k] === 0) : [];
  const untrained = labels.filter((k) => train[k] === 0 && !skipped.includes(k));
  const unscored = labels.filter((k) => test[k] === 0 && !skipped.includes(k));
  const name = (ks: number[]): string => quoted(ks.map((k) => classes[k]!));
  const notes = [
    ...(skipped.length
      ? [
          `the labels skip ${someOf(skipped.map(String))} (no image has ${skipped.length === 1 ? 'that label' : 'those labels'}): the model has a class for each that it cannot learn`,
        ]
      : []),
    ...(untrained.length ? [`no training images for ${name(untrained)}: the model cannot learn ${those(untrained.length)}`] : []),
    ...(unscored.length ? [`no test images for ${name(unscored)}: the test accuracy does not cover ${those(unscored.length)}`] : []),
  ];
  if (idx && !idx.named) {
    const empty = skipped.length + untrained.length;
    const odd = [
      ...(empty > classes.length / 2 ? [`${empty} of ${classes.length} classes have no training images`] : []),
      ...(untrained.length
        ? [`test label${untrained.length === 1 ? '' : 's'} ${someOf(untrained.map(String))} ${untrained.length === 1 ? 'is' : 'are'} on no training image`]
        : []),
    ];
    if (odd.length)
      notes.push(`${odd.join(' and ')}: if the labels are not class numbers from 0, name the classes in ${idx.classesFile}, one a line in label order`);
  }
  return notes;
}
