// MNIST Studio's command-line interface: the same core as the app, headless.
// A bad flag or bad input prints one `error: ...` line on stderr and exits 2, never a stack trace.
import { Command, CommanderError, Option } from 'commander';
import { RECIPE_FIELDS } from '@shared/recipe';
import { dataSummary } from '@core/dataset/dataset';
import { openDataset } from '@core/dataset/openDataset';
import { inputLabel } from '@shared/modelSpec';
import { cacheDir, dataRequest, importProgress, perClassCounts } from './data';
import { formatSummary, modelSummary } from '@core/model/summary';
import { counted, printable } from '@shared/format';
import { toStudioError } from '@shared/errors';
import { TrainerClient } from '@core/trainer/client';
import { augmentOption, backend, inputShape, integer, mode, recipeOption, UsageExit } from './options';
import { expandHome } from '@core/store/modelFolders';
import { trainCommand } from './train';
import { benchCommand } from './bench';
import { runsCommand } from './runs';
// predict and serve load native image code (sharp) and the web server: imported when they run, so a
// bundled CLI without them still trains and benchmarks.
const predictCommand = async (...args: Parameters<typeof import('./predict').predictCommand>) => (await import('./predict')).predictCommand(...args);
const exportCommand = async (...args: Parameters<typeof import('./export').exportCommand>) => (await import('./export')).exportCommand(...args);
const serveCommand = async (...args: Parameters<typeof import('./serve').serveCommand>) => (await import('./serve')).serveCommand(...args);

const program = new Command('mnist-studio')
  .description('Train and try the Flax Quick Start CNN on MNIST, offline.')
  .exitOverride()
  .configureOutput({ outputError: (text, write) => write(text.split('\n')[0] + '\n') })
  .showHelpAfterError(false);

const backendOption = () =>
  new Option('--backend <name>', 'auto, native (AVX2/AVX-512 kernels), webgpu, wasm, tfjs-node or cpu').argParser(backend).default('auto');
const DATA_HELP =
  'an IDX folder (four files, raw or .gz, optional classes.txt) or a folder of images: DIR/<class>/* or DIR/train/<class>/* + DIR/test/<class>/*';
const inputOption = () => new Option('--input <HxWxC>', 'input shape for image folders, e.g. 32x32x3 (default: chosen from the images)').argParser(inputShape);
const modeOption = () => new Option('--mode <mode>', 'drawing (greyscale, ink centred as MNIST) or photo (centre-cropped and resized)').argParser(mode);
// Paths arrive with `~` unexpanded when quoted, or from scripts and other shells: expand it as the app does.
const pathOption = (flags: string, description: string) => new Option(flags, description).argParser(expandHome);

program
  .command('data')
  .description('summarise the dataset (bundled MNIST unless --data)')
  .addOption(pathOption('--data <dir>', DATA_HELP))
  .addOption(inputOption())
  .addOption(modeOption())
  .option('--json', 'print one JSON object')
  .action(async (flags: { data?: string; json?: boolean; input?: string; mode?: string }) => {
    const summary = dataSummary(await openDataset(dataRequest(flags), { cacheDir: cacheDir(), onProgress: importProgress() }));
    const { source, classes, spec, train, test, notes, refused } = summary;
    if (flags.json) return void console.log(JSON.stringify({ classes, input: inputLabel(spec), mode: spec.mode, train, test, notes, refused }));
    console.log(`dataset: ${source}`);
    console.log(`input: ${inputLabel(spec)} (${spec.mode}); ${counted(classes.length, 'class', 'classes')}`);
    for (const note of notes) console.log(`note: ${printable(note)}`);
    for (const [name, s] of Object.entries({ train, test })) {
      console.log(`${name}: ${counted(s.count, 'image')}; per class ${perClassCounts(classes, s.labelCounts)}`);
    }
    if (refused.length) console.log(`refused ${refused.length} file${refused.length === 1 ? '' : 's'}:`);
    for (const r of refused) console.log(`  ${printable(`${r.file}: ${r.reason}`)}`);
  });

const train = program.command('train').description('train the Flax Quick Start CNN');
// The recipe's flags, from the recipe table; threads (how this machine runs it) goes with the backend.
for (const field of RECIPE_FIELDS) if (!field.machine) train.addOption(recipeOption(field.key));
train
  .addOption(augmentOption())
  .option('--augment-flip', 'with --augment on a photo dataset: also mirror images left to right (wrong for text)')
  .addOption(pathOption('--data <dir>', DATA_HELP))
  .addOption(inputOption())
  .addOption(modeOption())
  .addOption(backendOption())
  .addOption(recipeOption('threads'))
  .addOption(pathOption('--out <dir>', 'save the model (TF.js Layers format) and history.json here'))
  .addOption(pathOption('--checkpoint <dir>', 'write a checkpoint here after every epoch'))
  .addOption(pathOption('--resume <dir>', 'continue the run checkpointed in this folder'))
  .option('--json', 'print one JSON event per line')
  .action((flags, command: Command) => trainCommand(flags, command));

program
  .command('summary')
  .description("print the model table (the Flax Quick Start CNN on MNIST, or a saved model's)")
  .addOption(pathOption('--model <dir>', 'a saved model: its input shape and class names'))
  .option('--json', 'print the table as JSON')
  .action(async (flags: { model?: string; json?: boolean }) => {
    let spec;
    if (flags.model) {
      const client = new TrainerClient();
      try {
        spec = (await client.request('openModel', { dir: flags.model, backend: 'auto' })).spec;
      } finally {
        await client.close();
      }
    }
    const summary = modelSummary(spec);
    console.log(flags.json ? JSON.stringify(summary) : formatSummary(summary));
  });

program
  .command('bench')
  .description('measure training throughput at batch 32')
  .addOption(new Option('--steps <n>').argParser(integer(1, 100000)).default(300))
  .addOption(new Option('--warmup <n>').argParser(integer(0, 100000)).default(20))
  .addOption(recipeOption('batchSize'))
  .addOption(backendOption())
  .addOption(recipeOption('threads'))
  .option('--json', 'print JSON lines')
  .option('--profile', 'webgpu: also time each training kernel')
  .action(benchCommand);

program
  .command('predict')
  .description('classify image files (or the images in folders) with a saved model')
  .addOption(pathOption('--model <dir>', 'a folder saved by train --out or the app, or an .onnx file (needs onnxruntime-node)').makeOptionMandatory())
  .addOption(backendOption())
  .option('--json', 'print one JSON object per file')
  .argument('<files...>', 'image files or folders of them')
  .action(async (files: string[], flags: { model: string; json?: boolean; backend: 'auto' }) => {
    if (!(await predictCommand(files.map(expandHome), flags))) throw new UsageExit();
  });

program
  .command('export')
  .description('write a saved model in another format: ONNX (see docs/export.md)')
  .argument('<model-dir>', 'a folder saved by train --out or the app')
  .addOption(new Option('--format <format>', 'the format to write').choices(['onnx']).default('onnx'))
  // Taken as typed (export expands `~` itself): resolving it first would drop a trailing slash, which means a folder.
  .addOption(new Option('--out <file>', 'the file to write, e.g. model.onnx').makeOptionMandatory())
  .option('--json', 'print one JSON object')
  .action((dir: string, flags: { format: 'onnx'; out: string; json?: boolean }) => exportCommand(expandHome(dir), flags));

program
  .command('serve')
  .description('run the app in a browser: serves it on 127.0.0.1 and prints the URL with its token')
  .addOption(new Option('--port <n>', 'port (default: any free one)').argParser(integer(0, 65535)))
  .addOption(pathOption('--data <dir>', DATA_HELP))
  .addOption(inputOption())
  .addOption(modeOption())
  .action(serveCommand);

runsCommand(program);

function fail(message: string): never {
  process.stderr.write(`error: ${printable(message)}\n`);
  process.exit(2);
}

try {
  await program.parseAsync(process.argv);
} catch (error) {
  if (error instanceof CommanderError) {
    process.exit(error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.exitCode === 0 ? 0 : 2);
  }
  if (error instanceof UsageExit) process.exit(2);
  if ((error as { code?: string })?.code === 'EADDRINUSE') fail(`port ${(error as { port?: number }).port} is already in use`);
  fail(toStudioError(error).message);
}
