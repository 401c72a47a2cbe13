// Reading files that other people send, making folders and writing files durably, without hanging or
// exhausting memory.
//
// A size check by stat is not enough: a FIFO, /dev/zero or another device reports size 0, and then a
// plain read blocks forever (a FIFO with no writer) or grows without end (/dev/zero, until an abort no
// code can catch). So every untrusted read goes through readRegularFile: stat first and refuse anything
// but a regular file before opening it (opening a FIFO for reading blocks until a writer comes; O_NONBLOCK
// makes even a FIFO swapped in afterwards open at once), fstat the open file to catch such a swap, and
// read at most the fstat size plus one byte (never more than the cap), so a file that grows is caught.
import { randomBytes } from 'node:crypto';
import {
  closeSync,
  constants,
  fstatSync,
  fsyncSync,
  lstatSync,
  mkdirSync,
  openSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeFileSync,
  type Stats,
} from 'node:fs';
import { lstat, open, stat, type FileHandle } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { StudioFailure } from '@shared/errors';

/** A file that cannot be read safely; the message is `file: problem`. */
export class FileReadError extends StudioFailure {
  readonly code = 'bad-request';
  constructor(
    readonly file: string,
    readonly problem: string,
  ) {
    super(`${file}: ${problem}`);
    this.name = 'FileReadError';
  }
}

export type MakeError = (file: string, problem: string) => Error;
const fileReadError: MakeError = (file, problem) => new FileReadError(file, problem);

// O_NONBLOCK and O_NOCTTY do not exist on Windows, which has no FIFOs or terminals to open by path.
const READ_FLAGS = constants.O_RDONLY | (constants.O_NONBLOCK ?? 0) | (constants.O_NOCTTY ?? 0);
// O_NOFOLLOW too is missing on Windows; there, noFollow rests on the lstat before opening.
const NO_FOLLOW_FLAGS = READ_FLAGS | (constants.O_NOFOLLOW ?? 0);

export interface ReadOptions {
  /**
   * Refuse a file that is a symbolic link (its last path component): lstat instead of stat, and
   * O_NOFOLLOW where the platform has it, so a name swapped for a link after it was listed is not followed.
   */
  noFollow?: boolean;
}

/** Why a path is not a regular file (a folder, a link, a FIFO...), or undefined where it is one. */
export function notRegular(stats: Stats): string | undefined {
  if (stats.isFile()) return undefined;
  if (stats.isSymbolicLink()) return 'a symbolic link (not followed)';
  const kind = stats.isDirectory()
    ? 'a folder'
    : stats.isFIFO()
      ? 'a FIFO'
      : stats.isCharacterDevice()
        ? 'a character device'
        : stats.isBlockDevice()
          ? 'a block device'
          : stats.isSocket()
            ? 'a socket'
            : 'special';
  return `not a regular file (${kind})`;
}

/** A size limit as people read it: whole megabytes as MB, anything else in bytes. */
export const describeBytes = (bytes: number): string => (bytes % (1024 * 1024) === 0 ? `${bytes / 1024 / 1024} MB` : `${bytes} bytes`);

function problemOf(error: unknown): string {
  const code = (error as { code?: string }).code;
  if (code === 'ENOENT' || code === 'ENOTDIR') return 'not found';
  if (code === 'EACCES' || code === 'EPERM') return 'permission denied';
  if (code === 'ELOOP') return 'a symbolic link (not followed), or too many of them';
  return `cannot be read (${code ?? (error as Error)?.message ?? error})`;
}

/** The checks before and after opening, shared by the sync and async readers. */
function check(file: string, stats: Stats, maxBytes: number, fail: MakeError, before?: Stats): void {
  const wrong = notRegular(stats);
  if (wrong) throw fail(file, wrong);
  if (before && (stats.ino !== before.ino || stats.dev !== before.dev)) throw fail(file, 'changed while it was opened');
  if (stats.size > maxBytes) throw fail(file, `larger than ${describeBytes(maxBytes)}`);
}

/**
 * A buffer one byte larger than the file's fstat size (at most the cap): filling it means the file grew
 * while it was read, which is refused, so no read ever goes past the cap.
 */
function room(stats: Stats): Buffer {
  return Buffer.allocUnsafe(stats.size + 1);
}

function filled(file: string, buffer: Buffer, length: number, fail: MakeError): Buffer {
  if (length === buffer.length) throw fail(file, 'grew while it was read');
  return buffer.subarray(0, length);
}

/** The whole of a regular file of at most maxBytes; anything else is refused with one clear error. */
export function readRegularFile(file: string, maxBytes: number, fail: MakeError = fileReadError, options: ReadOptions = {}): Buffer {
  let before: Stats;
  try {
    before = options.noFollow ? lstatSync(file) : statSync(file);
  } catch (error) {
    throw fail(file, problemOf(error));
  }
  check(file, before, maxBytes, fail);
  let fd: number;
  try {
    fd = openSync(file, options.noFollow ? NO_FOLLOW_FLAGS : READ_FLAGS);
  } catch (error) {
    throw fail(file, problemOf(error));
  }
  try {
    const stats = fstatSync(fd);
    check(file, stats, maxBytes, fail, before);
    const buffer = room(stats);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = readSync(fd, buffer, length, buffer.length - length, null);
    return filled(file, buffer, length, fail);
  } finally {
    closeSync(fd);
  }
}

/** readRegularFile without blocking the thread: for the Electron main process and the browser host. */
export async function readRegularFileAsync(file: string, maxBytes: number, fail: MakeError = fileReadError, options: ReadOptions = {}): Promise<Buffer> {
  let before: Stats;
  try {
    before = await (options.noFollow ? lstat(file) : stat(file));
  } catch (error) {
    throw fail(file, problemOf(error));
  }
  check(file, before, maxBytes, fail);
  let handle: FileHandle;
  try {
    handle = await open(file, options.noFollow ? NO_FOLLOW_FLAGS : READ_FLAGS);
  } catch (error) {
    throw fail(file, problemOf(error));
  }
  try {
    const stats = await handle.stat();
    check(file, stats, maxBytes, fail, before);
    const buffer = room(stats);
    let length = 0;
    for (let n = -1; n !== 0 && length < buffer.length; length += n) n = (await handle.read(buffer, length, buffer.length - length, null)).bytesRead;
    return filled(file, buffer, length, fail);
  } finally {
    await handle.close();
  }
}

/**
 * Creates a folder and its missing parents, one level at a time. Node 20's `mkdirSync(…, { recursive })`
 * loops forever at 100% CPU where mkdir keeps failing with ENOENT under an existing parent (/proc/self/x);
 * one level at a time, that is a plain error.
 */
export function makeFolders(dir: string, fail: MakeError = fileReadError): void {
  const missing: string[] = [];
  for (let at = resolve(dir); ; at = dirname(at)) {
    let stats: Stats | undefined;
    try {
      stats = statSync(at);
    } catch (error) {
      if ((error as { code?: string }).code !== 'ENOENT') throw fail(at, problemOf(error));
    }
    if (stats?.isDirectory()) break;
    if (stats) throw fail(at, 'exists and is not a folder');
    missing.unshift(at);
    if (dirname(at) === at) break;
  }
  for (const folder of missing) {
    try {
      mkdirSync(folder);
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === 'EEXIST' && statSync(folder).isDirectory()) continue; // made by someone else meanwhile
      throw fail(folder, `cannot be created (${code ?? (error as Error).message})`);
    }
  }
}

/** Writes a file and makes it durable before anyone can see it under its final name. */
export function writeDurably(file: string, data: string | Uint8Array): void {
  const staging = `${dirname(file)}/.${randomBytes(6).toString('hex')}.tmp`;
  try {
    // 'wx': a new file, never one (a FIFO, a link) that someone put in the way.
    writeFileSync(staging, data, { flag: 'wx' });
    const fd = openSync(staging, 'r');
    fsyncSync(fd);
    closeSync(fd);
    renameSync(staging, file);
  } catch (error) {
    // A write cut short (a full disk, a rename refused) leaves no partial file behind, under any name.
    rmSync(staging, { force: true });
    throw error;
  }
}

/** Makes a folder's entries (new names, renames) durable. Not possible on every platform: best effort. */
export function syncFolder(dir: string): void {
  try {
    const fd = openSync(dir, 'r');
    fsyncSync(fd);
    closeSync(fd);
  } catch {
    // Windows cannot open folders for fsync; NTFS journals the rename itself.
  }
}
