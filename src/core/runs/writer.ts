// Who writes a run's record while it runs, and whether that writer is still there. A record that says
// `running` after its process died (killed, crashed, the machine lost power) lists as interrupted.
// A pid alone could be reused by another process since: on Linux the process's start time (in clock ticks
// since boot, from /proc/PID/stat) is kept beside it, so a reused pid reads as a different process.
import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';
import type { RunRecord } from '@shared/runs';

export type Writer = RunRecord['writer'];

/** The 22nd field of /proc/PID/stat, or undefined where there is no /proc (macOS, Windows). */
function startTicks(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) is in parentheses and may hold spaces: count fields after its last ')'.
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

let self: Writer | undefined;
export function thisWriter(): Writer {
  self ??= { pid: process.pid, host: hostname(), started: startTicks(process.pid) };
  return self;
}

/** Whether the process that wrote a record is still running. Another machine's cannot be told: assumed alive. */
export function writerAlive(writer: Writer): boolean {
  if (writer.host !== hostname()) return true;
  if (writer.pid === process.pid) return writer.started === thisWriter().started;
  try {
    process.kill(writer.pid, 0);
  } catch (error) {
    // EPERM: a process of another user holds the pid; it exists, and the start time below tells if it is ours.
    if ((error as { code?: string }).code !== 'EPERM') return false;
  }
  return writer.started === undefined || startTicks(writer.pid) === writer.started;
}
