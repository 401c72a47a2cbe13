// `serve`: the browser host. Builds the renderer first when its sources are newer than the last build.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { InputMode, InputShape } from '@shared/modelSpec';
import { dataRequest } from './data';
import { UsageError } from './options';
import { StudioService } from '@core/service/studioService';
import { keepHostAlive, startBrowserHost } from '../host/browserHost';

const root = resolve(fileURLToPath(new URL('.', import.meta.url)), '../..');

function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

export async function ensureRenderer(): Promise<string> {
  const dir = join(root, 'out', 'renderer');
  const index = join(dir, 'index.html');
  const stale = !existsSync(index) || Math.max(newest(join(root, 'src', 'renderer')), newest(join(root, 'src', 'shared'))) > statSync(index).mtimeMs;
  if (stale) {
    process.stderr.write('building the app…\n');
    const { build } = await import('electron-vite');
    await build({ root, logLevel: 'warn' });
  }
  return dir;
}

export async function serveCommand(flags: HostFlags): Promise<void> {
  // A dataset folder that is not there is said at once, as `data` and `train` say it, not left to the page.
  if (flags.data !== undefined) {
    const kind = existsSync(flags.data) ? (statSync(flags.data).isDirectory() ? 'folder' : 'other') : 'none';
    if (kind !== 'folder') throw new UsageError(`--data ${flags.data}: ${kind === 'none' ? 'no such folder' : 'not a folder'}`);
  }
  await hostRenderer(await ensureRenderer(), flags);
}

type HostFlags = { port?: number; data?: string; input?: InputShape; mode?: InputMode };

/** Runs the host on a built renderer until SIGINT or SIGTERM; no single request can end the process. */
export async function hostRenderer(rendererDir: string, flags: HostFlags): Promise<void> {
  keepHostAlive();
  const service = new StudioService({ data: dataRequest(flags) });
  const host = await startBrowserHost({ service, rendererDir, port: flags.port });
  process.stdout.write(`MNIST Studio is running at ${host.url}\n`);
  const stop = async (): Promise<void> => {
    await host.close();
    await service.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop());
  process.once('SIGTERM', () => void stop());
}
