// The model table, after the seed's `tabulate`: one row per layer with its output shape, parameter
// shapes and counts, plus FLOPs, and the totals with their size in bytes.
import { architectureOf, paramCount } from '@shared/architecture';
import type { ModelSummary, SummaryRow } from '@shared/training';
import { MNIST_SPEC, inputLabel, type ModelSpec } from '@shared/modelSpec';

export type { ModelSummary };

const shape = (dims: readonly number[]): string => `float32[${['N', ...dims].join(',')}]`;

export function modelSummary(spec: ModelSpec = MNIST_SPEC): ModelSummary {
  const arch = architectureOf(spec);
  let input: readonly number[] = arch.inputShape;
  const rows = arch.layers.map((layer) => {
    const row: SummaryRow = {
      name: layer.name,
      kind: layer.kind,
      input: shape(input),
      output: shape(layer.output),
      params: layer.params.map((p) => `${p.name}: [${p.shape.join(',')}]`).join('  '),
      paramCount: paramCount(layer),
      flops: layer.flops,
    };
    input = layer.output;
    return row;
  });
  return { spec, rows, totalParams: arch.paramCount, totalBytes: arch.paramCount * 4, totalFlops: rows.reduce((a, r) => a + r.flops, 0) };
}

const number = (n: number): string => n.toLocaleString('en-US');
const bytes = (n: number): string => (n >= 1e6 ? `${(n / 1e6).toFixed(1)} MB` : `${(n / 1e3).toFixed(1)} KB`);

/** The summary as a text table for terminals. */
export function formatSummary(s: ModelSummary): string {
  const header = ['layer', 'module', 'inputs', 'outputs', 'params', 'count', 'FLOPs'];
  const body = s.rows.map((r) => [r.name, r.kind, r.input, r.output, r.params, r.paramCount ? number(r.paramCount) : '', number(r.flops)]);
  const total = ['', '', '', '', 'Total', `${number(s.totalParams)} (${bytes(s.totalBytes)})`, number(s.totalFlops)];
  const widths = header.map((h, i) => Math.max(h.length, ...[...body, total].map((r) => r[i]!.length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i >= 5 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join(' │ ')
      .trimEnd();
  const rule = widths.map((w) => '─'.repeat(w)).join('─┼─');
  const { spec } = s;
  const classes = spec.classes.length > 12 ? [...spec.classes.slice(0, 12), `… (${spec.classes.length - 12} more)`] : spec.classes;
  return [
    'MNIST CNN summary (FLOPs per example, forward)',
    `input: ${inputLabel(spec)} (${spec.mode}); ${spec.classes.length} classes: ${classes.join(', ')}`,
    line(header),
    rule,
    ...body.map(line),
    rule,
    line(total),
    '',
    `Total parameters: ${number(s.totalParams)} (${bytes(s.totalBytes)})`,
  ].join('\n');
}
