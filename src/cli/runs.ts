// `runs`: the run log from the command line: list, show, compare, export, rename, remove, and reproduce,
// which trains a run's recipe again on its dataset, backend and thread count and checks the numbers.
import { Command, Option } from 'commander';
import { isDamaged, type RunDetail, type RunListing } from '@shared/runs';
import type { EpochMetrics } from '@shared/training';
import { printable } from '@shared/format';
import { defaultHome } from '@core/home';
import { runLogAt } from '@core/runs/importOlder';
import { compareRuns, epochsCsv, firstMismatch, rerunConfig } from '@core/runs/compare';
import { datasetFingerprint } from '@core/runs/fingerprint';
import { recordRun } from '@core/runs/recorder';
import { outputTarget, writeOutputFile } from '@core/store/outputFile';
import { TrainerClient } from '@core/trainer/client';
import { cacheDir } from './data';
import { UsageError } from './options';

const log = () => runLogAt(defaultHome());
const accuracy = (e?: EpochMetrics): string => (e ? `${(e.test.accuracy * 100).toFixed(2)}%` : '-');
const seconds = (s: number): string => (s < 60 ? `${s.toFixed(1)}s` : `${Math.floor(s / 60)}m${String(Math.round(s % 60)).padStart(2, '0')}s`);

function table(runs: RunListing[]): string {
  // Every field comes from files anyone could have written (a damaged entry's id is its file's name): one printable line each.
  const rows = runs.map((r) =>
    (isDamaged(r)
      ? [r.id, '', '', 'damaged', '', '', '', r.damaged]
      : [
          r.id,
          r.name ?? '',
          r.startedAt.slice(0, 19).replace('T', ' '),
          r.host ? `${r.outcome} on ${r.host}` : r.outcome,
          r.backend ?? '-',
          `${r.epochs}/${r.config.epochs}`,
          accuracy(r.final),
          seconds(r.wallSeconds),
        ]
    ).map(printable),
  );
  const header = ['ID', 'NAME', 'STARTED', 'OUTCOME', 'BACKEND', 'EPOCHS', 'TEST ACC', 'WALL'];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  return [header, ...rows].map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n');
}

function show(r: RunDetail): string {
  const lines = [
    `run: ${r.id}${r.name ? ` (${printable(r.name)})` : ''}`,
    `outcome: ${r.outcome}${r.error ? `: ${printable(r.error.message)}` : ''}`,
    `started: ${r.startedAt}${r.endedAt ? `, ended ${r.endedAt}` : ''}, wall ${seconds(r.wallSeconds)}`,
    `recipe: ${Object.entries(r.config)
      .filter(([, v]) => v !== undefined)
      .map(([k, v]) => `${k}=${v}`)
      .join(' ')}`,
    `dataset: ${printable(r.dataset.source)}: ${r.dataset.classes.length} classes, ${r.dataset.trainCount} train, ${r.dataset.testCount} test${r.dataset.fingerprint ? `, fingerprint ${r.dataset.fingerprint}` : ''}`,
    `backend: ${r.backend ? `${r.backend.name} (${printable(r.backend.detail)})${r.backend.threads ? `, ${r.backend.threads} threads` : ''}` : '-'}`,
    `app: ${r.app.version}${r.app.commit ? ` (${r.app.commit.slice(0, 12)})` : ''}`,
  ];
  if (r.examplesPerSecond !== undefined) lines.push(`speed: ${Math.round(r.examplesPerSecond)} examples/s`);
  if (r.peakRssBytes !== undefined) lines.push(`peak memory: ${Math.round(r.peakRssBytes / 1024 / 1024)} MB resident`);
  if (r.checkpointDir) lines.push(`checkpoint: ${printable(r.checkpointDir)}`);
  if (r.modelDir) lines.push(`model: ${printable(r.modelDir)}`);
  if (r.resumed) lines.push(`resumed: ${printable(r.resumed.checkpointDir)} after epoch ${r.resumed.afterEpoch}`);
  if (r.reproduces) lines.push(`reproduces: ${r.reproduces}`);
  for (const e of r.epochs)
    lines.push(
      `epoch ${e.epoch}: train loss ${e.train.loss.toFixed(4)} accuracy ${(e.train.accuracy * 100).toFixed(2)}, test loss ${e.test.loss.toFixed(4)} accuracy ${(e.test.accuracy * 100).toFixed(2)}`,
    );
  return lines.join('\n');
}

/** Trains the run's recipe again; the rerun is a run of its own in the log. Returns whether it matched. */
async function reproduce(id: string): Promise<boolean> {
  const original = log().get(id);
  const done = original.epochs.length;
  if (done === 0) throw new UsageError(`run ${id} has no finished epoch to compare with`);
  // The same backend and thread count it ran on, not `auto`, which may pick another on this machine now.
  const config = rerunConfig(original);
  const data = original.dataset.request;
  const now = datasetFingerprint(data);
  if (original.dataset.fingerprint && now !== original.dataset.fingerprint)
    process.stderr.write(`note: the dataset ${printable(original.dataset.source)} has changed since run ${id}: the numbers will differ\n`);
  const client = new TrainerClient();
  try {
    await client.request('openDataset', { data, cacheDir: cacheDir() });
    const rerun = recordRun(client, { home: defaultHome(), config, data, reproduces: id });
    console.log(
      `run: ${rerun.id} (reproducing ${id}: ${done} epoch${done === 1 ? '' : 's'} on ${config.backend}${config.threads ? `, ${config.threads} threads` : ''})`,
    );
    const { history } = await client.request('startTraining', { config });
    const mismatch = firstMismatch(original.epochs, history.epochs, done);
    if (!mismatch) console.log(`identical: ${done} epoch${done === 1 ? '' : 's'}, bit for bit`);
    else console.log(`differs: epoch ${mismatch.epoch} ${mismatch.metric}: ${mismatch.values[0]} (${id}) vs ${mismatch.values[1]} (${rerun.id})`);
    return !mismatch;
  } finally {
    await client.close();
  }
}

export function runsCommand(program: Command): void {
  const runs = program.command('runs').description('the run log: every training run, its recipe, dataset, backend and metrics');
  runs
    .command('list', { isDefault: true })
    .description('list the runs, newest first')
    .option('--json', 'print one JSON object per run')
    .action((flags: { json?: boolean }) => {
      const all = log().list();
      if (flags.json) for (const r of all) console.log(JSON.stringify(r));
      else console.log(all.length ? table(all) : 'no runs yet');
    });
  runs
    .command('show')
    .description("one run's whole record")
    .argument('<id>')
    .option('--json', 'print the record as JSON')
    .action((id: string, flags: { json?: boolean }) => {
      const r = log().get(id);
      console.log(flags.json ? JSON.stringify(r) : show(r));
    });
  runs
    .command('compare')
    .description('the fields that differ between runs, and each one’s final metrics')
    .argument('<ids...>')
    .option('--json', 'print one JSON object')
    .action((ids: string[], flags: { json?: boolean }) => {
      if (ids.length < 2) throw new UsageError('compare needs at least two run ids');
      const store = log();
      const c = compareRuns(ids.map((id) => store.get(id)));
      if (flags.json) return void console.log(JSON.stringify(c));
      if (!c.differences.length) console.log('no differences in recipe, dataset, backend or app');
      for (const d of c.differences) console.log(`${d.field}: ${d.values.map((v) => printable(JSON.stringify(v))).join(' | ')}`);
      for (const r of c.runs)
        console.log(
          `${r.id}: ${r.outcome}, ${r.final ? `epoch ${r.final.epoch}, test accuracy ${accuracy(r.final)}, loss ${r.final.test.loss.toFixed(4)}` : 'no epoch'}`,
        );
    });
  runs
    .command('export')
    .description('per-epoch metrics as CSV, one row per run and epoch')
    .argument('<ids...>')
    .addOption(new Option('--csv <file>', 'the CSV file to write').makeOptionMandatory())
    .action((ids: string[], flags: { csv: string }) => {
      // The rules of export's --out (a .csv name, `~` expanded, only a regular writable file replaced), checked before the runs are read.
      const rules = { extension: '.csv', home: defaultHome() };
      outputTarget(flags.csv, rules);
      const store = log();
      const all = ids.map((id) => store.get(id));
      const file = writeOutputFile(flags.csv, rules, epochsCsv(all));
      console.log(`wrote ${all.reduce((n, r) => n + r.epochs.length, 0)} rows to ${file}`);
    });
  runs
    .command('rename')
    .description('name a run (the rules of model names)')
    .argument('<id>')
    .argument('<name>')
    .action((id: string, name: string) => console.log(`run ${id} is named ${printable(log().rename(id, name))}`));
  runs
    .command('rm')
    .description("remove a run's record (its checkpoint and saved model stay)")
    .argument('<id>')
    .option('--force', 'remove a run said to be running whose writer cannot be told alive (another machine, or no start time)')
    .action((id: string, flags: { force?: boolean }) => {
      log().remove(id, { force: flags.force });
      console.log(`removed run ${printable(id)}`);
    });
  runs
    .command('reproduce')
    .description("train a run's recipe again (same dataset, backend and threads) and check the metrics bit for bit")
    .argument('<id>')
    .action(async (id: string) => {
      if (!(await reproduce(id))) process.exitCode = 1;
    });
}
