// The app's version and, in a checkout, its git commit: which code produced a run's numbers.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { name, version } from '../../../package.json';

let commit: string | undefined | null = null;

/** The commit of the checkout this code runs from; undefined in a packaged app or without git. */
function gitCommit(): string | undefined {
  if (commit !== null) return commit;
  try {
    const [top, head] = execFileSync('git', ['rev-parse', '--show-toplevel', 'HEAD'], {
      cwd: dirname(fileURLToPath(import.meta.url)),
      encoding: 'utf8',
      timeout: 2000,
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .trim()
      .split('\n');
    // Only this project's own checkout: an app installed inside some other repository has no commit of ours.
    const ours = top !== undefined && existsSync(join(top, 'package.json')) && JSON.parse(readFileSync(join(top, 'package.json'), 'utf8')).name === name;
    commit = ours && /^[0-9a-f]{40}$/.test(head ?? '') ? head : undefined;
  } catch {
    commit = undefined;
  }
  return commit;
}

export const appInfo = (): { version: string; commit?: string } => {
  const at = gitCommit();
  return at ? { version, commit: at } : { version };
};
