// MNIST Studio's command-line interface: the same core as the app, headless.
// A bad flag or bad input prints one `error: ...` line on stderr and exits 2, never a stack trace.
import { Command, CommanderError, Option } from 'commander';
import { SEED_RECIPE } from '../shared/contract';
import { dataSummary, loadDataset } from '../main/core/dataset/dataset';
import { DataError } from '../main/core/dataset/idx';
import { formatSummary, modelSummary } from '../main/core/model/summary';
import { StudioCallError } from '../shared/api';
import { backend, integer, real, UsageError } from './options';
import { trainCommand } from './train';
import { benchCommand } from './bench';
// predict and serve load native image code (sharp) and the web server: imported when they run, so a
// bundled CLI without them still trains and benchmarks.
const predictCommand = async (...args: Parameters<typeof import('./predict').predictCommand>) => (await import('./predict')).predictCommand(...args);
const serveCommand = async (...args: Parameters<typeof import('./serve').serveCommand>) => (await import('./serve')).serveCommand(...args);

class UsageExit extends Error {}

const program = new Command('mnist-studio')
  .description('Train and try the Flax Quick Start CNN on MNIST, offline.')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') })
  .showHelpAfterError(false);

const backendOption = () => new Option('--backend <name>', 'auto, native (tfjs-node), webgpu, wasm or cpu').argParser(backend).default('auto');
const threadsOption = () => new Option('--threads <n>', 'threads for the wasm backend (default: cores, up to 4)').argParser(integer(1, 64));

program
  .command('data')
  .description('summarise the dataset (bundled MNIST unless --data)')
  .option('--data <dir>', 'a folder with the four IDX files, raw or .gz')
  .option('--json', 'print one JSON object')
  .action((flags: { data?: string; json?: boolean }) => {
    const { source, train, test } = dataSummary(loadDataset(flags.data));
    if (flags.json) return void console.log(JSON.stringify({ train, test }));
    console.log(`dataset: ${source}`);
    for (const [name, s] of Object.entries({ train, test })) {
      console.log(`${name}: ${s.count} images of ${s.height}x${s.width}; per label ${s.labelCounts.map((c, l) => `${l}:${c}`).join(' ')}`);
    }
  });

program
  .command('train')
  .description('train the Flax Quick Start CNN')
  .addOption(new Option('--epochs <n>').argParser(integer(1, 1000)).default(SEED_RECIPE.epochs))
  .addOption(new Option('--batch-size <n>').argParser(integer(1, 1024)).default(SEED_RECIPE.batchSize))
  .addOption(new Option('--learning-rate <x>').argParser(real(0, 10, { minOpen: true })).default(SEED_RECIPE.learningRate))
  .addOption(new Option('--momentum <x>').argParser(real(0, 1, { maxOpen: true })).default(SEED_RECIPE.momentum))
  .addOption(new Option('--seed <n>').argParser(integer(0, 0xffffffff)).default(SEED_RECIPE.seed))
  .addOption(new Option('--train-limit <n>', 'train on the first N images').argParser(integer(1)))
  .addOption(new Option('--test-limit <n>', 'test on the first N images').argParser(integer(1)))
  .option('--data <dir>', 'a folder with the four IDX files, raw or .gz')
  .addOption(backendOption())
  .addOption(threadsOption())
  .option('--out <dir>', 'save the model (TF.js Layers format) and history.json here')
  .option('--checkpoint <dir>', 'write a checkpoint here after every epoch')
  .option('--resume <dir>', 'continue the run checkpointed in this folder')
  .option('--json', 'print one JSON event per line')
  .action((flags, command: Command) => trainCommand(flags, command));

program
  .command('summary')
  .description('print the model table')
  .option('--json', 'print the table as JSON')
  .action((flags: { json?: boolean }) => {
    const summary = modelSummary();
    console.log(flags.json ? JSON.stringify(summary) : formatSummary(summary));
  });

program
  .command('bench')
  .description('measure training throughput at batch 32')
  .addOption(new Option('--steps <n>').argParser(integer(1, 100000)).default(300))
  .addOption(new Option('--warmup <n>').argParser(integer(0, 100000)).default(20))
  .addOption(new Option('--batch-size <n>').argParser(integer(1, 1024)).default(32))
  .addOption(backendOption())
  .addOption(threadsOption())
  .option('--json', 'print JSON lines')
  .option('--profile', 'webgpu: also time each training kernel')
  .action(benchCommand);

program
  .command('predict')
  .description('classify image files with a saved model')
  .requiredOption('--model <dir>', 'a folder saved by train --out or the app')
  .addOption(backendOption())
  .option('--json', 'print one JSON object per file')
  .argument('<files...>')
  .action(async (files: string[], flags: { model: string; json?: boolean; backend: 'auto' }) => {
    if (!(await predictCommand(files, flags))) throw new UsageExit();
  });

program
  .command('serve')
  .description('run the app in a browser: serves it on 127.0.0.1 and prints the URL with its token')
  .addOption(new Option('--port <n>', 'port (default: any free one)').argParser(integer(0, 65535)))
  .option('--data <dir>', 'a folder with the four IDX files, raw or .gz')
  .action(serveCommand);

function fail(message: string): never {
  process.stderr.write(`error: ${message}\n`);
  process.exit(2);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? 0 : 2);
  }
  if (error instanceof UsageExit) process.exit(2);
  if (error instanceof DataError || error instanceof StudioCallError || error instanceof RangeError || error instanceof UsageError) fail(error.message);
  if ((error as { code?: string })?.code === 'EADDRINUSE') fail(`port ${(error as { port?: number }).port} is already in use`);
  fail((error as Error)?.message ?? String(error));
}
