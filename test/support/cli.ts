// The CLI as a user runs it, from the sources through tsx, for the integration tests: its exit code and
// output, and the one shape every refusal has.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';

/** node's arguments that run the CLI from the sources. */
export const CLI_ARGS = ['--import', 'tsx', 'src/cli/index.ts'];

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI to its end, with the environment's variables plus `env`. */
export function runCli(args: string[], { env = {}, timeoutMs = 180_000 }: { env?: Record<string, string>; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, [...CLI_ARGS, ...args], { encoding: 'utf8', timeout: timeoutMs, env: { ...process.env, ...env } });
  return { code: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** One line, `error: ...`, no stack trace, exit 2. */
export function assertUsageError(r: CliResult, pattern: RegExp): void {
  assert.equal(r.code, 2, r.stderr);
  const lines = r.stderr.trim().split('\n');
  assert.equal(lines.length, 1, r.stderr);
  assert.match(lines[0]!, /^error: /);
  assert.match(lines[0]!, pattern);
  assert.doesNotMatch(r.stderr, /\n\s+at /);
}
