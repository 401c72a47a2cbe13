// Loss and accuracy from logits, shared by every backend's evaluation and by predictions.
import type { Metrics, Prediction } from '@shared/training';

export interface MetricSums {
  lossSum: number;
  correct: number;
  count: number;
}

/** Sums softmax cross-entropy and argmax hits over rows of [n, K] logits; `predicted` receives each argmax. */
export function scoreLogits(logits: Float32Array, labels: Uint8Array, predicted?: Uint8Array): MetricSums {
  const n = labels.length;
  const k = n ? logits.length / n : 0;
  let lossSum = 0;
  let correct = 0;
  for (let i = 0; i < n; i++) {
    const row = logits.subarray(i * k, i * k + k);
    let best = 0;
    for (let j = 1; j < k; j++) if (row[j]! > row[best]!) best = j;
    if (predicted) predicted[i] = best;
    let sum = 0;
    for (let j = 0; j < k; j++) sum += Math.exp(row[j]! - row[best]!);
    lossSum += row[best]! + Math.log(sum) - row[labels[i]!]!;
    if (best === labels[i]) correct++;
  }
  return { lossSum, correct, count: n };
}

export function toMetrics(s: MetricSums): Metrics {
  return { loss: s.count ? s.lossSum / s.count : NaN, accuracy: s.count ? s.correct / s.count : NaN };
}

/** Softmax of each row of [n, k] logits. */
export function softmaxRows(logits: Float32Array, k: number): number[][] {
  const rows: number[][] = [];
  for (let i = 0; i < logits.length; i += k) {
    const row = Array.from(logits.subarray(i, i + k));
    const max = Math.max(...row);
    const exps = row.map((v) => Math.exp(v - max));
    const total = exps.reduce((a, b) => a + b, 0);
    rows.push(exps.map((e) => e / total));
  }
  return rows;
}

/** Each row of logits as a prediction: the likeliest class, by index and name, and every class's probability. */
export function predictionsOf(logits: Float32Array, classes: readonly string[]): Prediction[] {
  return softmaxRows(logits, classes.length).map((probabilities) => {
    const label = probabilities.indexOf(Math.max(...probabilities));
    return { label, class: classes[label]!, probabilities };
  });
}
