import { accessSync, constants, existsSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Two kinds of error: one the user can fix (a UserError, whose message says what to do next)
 * and everything else, which is a bug. The CLI's single top-level handler turns anything thrown
 * into one of the two (see cli/run.ts).
 */
export class UserError extends Error {
  /** What the user can do about it, printed on its own line after the message. */
  readonly hint: string | undefined;
  /** Process exit code for this error. */
  readonly exitCode: number;

  constructor(message: string, options: { hint?: string; cause?: unknown; exitCode?: number } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'UserError';
    this.hint = options.hint;
    this.exitCode = options.exitCode ?? 1;
  }
}

/**
 * A stored object that cannot be parsed (a manifest, ETL state or checkpoint cut short or
 * overwritten): names the object and the command that finds and mends such objects.
 */
export class CorruptObjectError extends UserError {
  /** The object's key in the lake. */
  readonly key: string;

  constructor(key: string, where: string, cause: unknown) {
    super(`corrupt JSON in ${where}: ${errorMessage(cause)}`, {
      hint: '`openevents lake check` lists every damaged file; `openevents lake check --repair` rebuilds manifests and ETL state from the raw data',
      cause,
    });
    this.name = 'CorruptObjectError';
    this.key = key;
  }
}

/** True when `error` is (or wraps) a Node system error with this code, e.g. 'ENOENT'. */
export function isErrnoCode(error: unknown, code: string): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === code;
}

/** The message of anything thrown, for logs and panes. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A fault of the environment rather than of the code — a full disk, missing permissions, a
 * read-only filesystem, a file where a folder belongs — as a UserError that names the file and
 * what to do about it; undefined for anything else (a bug). Looks through `cause` chains, and at
 * the text of errors from native code (DuckDB reports `IO Error: … "path": No space left on device`).
 */
export function environmentError(error: unknown): UserError | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    const fault = faultOf(e);
    if (fault) return describeFault(fault, e);
  }
  return undefined;
}

interface Fault {
  code: string;
  path: string | undefined;
  syscall: string | undefined;
}

/** The system error code (and path) of an error, from Node's fields or a native message. */
function faultOf(e: object): Fault | undefined {
  const { code, path, dest, syscall } = e as { code?: unknown; path?: unknown; dest?: unknown; syscall?: unknown };
  if (code === 'ENOENT' && syscall === 'mkdir' && typeof path === 'string') {
    // A recursive mkdir on a read-only or forbidden parent reports ENOENT: ask the parent why.
    const why = parentFault(path);
    if (why) return { code: why, path, syscall };
  }
  if (typeof code === 'string' && code in FAULTS) {
    // A rename that fails names both paths; the target is where the write failed.
    const at = typeof dest === 'string' ? dest : typeof path === 'string' ? path : undefined;
    return { code, path: at, syscall: typeof syscall === 'string' ? syscall : undefined };
  }
  const message = e instanceof Error ? e.message : '';
  for (const [code, text] of NATIVE_TEXT) {
    if (!text.test(message)) continue;
    const quoted = /"([^"]+)"/.exec(message);
    return { code, path: quoted?.[1], syscall: undefined };
  }
  return undefined;
}

/** Why the nearest existing folder above `target` cannot take a new entry, if it cannot. */
function parentFault(target: string): string | undefined {
  for (let dir = dirname(target); ; dir = dirname(dir)) {
    if (!existsSync(dir)) {
      if (dirname(dir) === dir) return undefined;
      continue;
    }
    try {
      accessSync(dir, constants.W_OK);
      return undefined;
    } catch (error) {
      const code = (error as { code?: unknown }).code;
      return typeof code === 'string' && code in FAULTS ? code : undefined;
    }
  }
}

const NATIVE_TEXT: ReadonlyArray<[string, RegExp]> = [
  ['ENOSPC', /No space left on device/i],
  ['EROFS', /Read-only file system/i],
  ['EACCES', /Permission denied/i],
  ['EDQUOT', /Disk quota exceeded/i],
];

const CHECK = '`openevents lake check` lists what is out of place (`--repair` mends what can be rebuilt)';

const FAULTS: Record<string, (where: string, action: string, dir: string) => { message: string; hint: string }> = {
  ENOSPC: (where, action, dir) => ({
    message: `no space left on the device: cannot ${action} ${where}`,
    hint: `free space on the filesystem holding ${dir} (df -h ${dir}) and run the command again; every write is atomic, so nothing half-written is visible, and ${CHECK}`,
  }),
  EDQUOT: (where, action, dir) => ({
    message: `disk quota exceeded: cannot ${action} ${where}`,
    hint: `free space within your quota on ${dir} (quota -s) and run the command again; ${CHECK}`,
  }),
  EACCES: (where, action, dir) => ({
    message: `permission denied: cannot ${action} ${where}`,
    hint: `give this user access to ${dir} (ls -ld ${dir}) or run as the lake's owner; reading commands (lake ls, stats, query) need read access only`,
  }),
  EPERM: (where, action, dir) => ({
    message: `operation not permitted: cannot ${action} ${where}`,
    hint: `check the owner and permissions of ${dir} (ls -ld ${dir}); reading commands (lake ls, stats, query) need read access only`,
  }),
  EROFS: (where, action) => ({
    message: `read-only filesystem: cannot ${action} ${where}`,
    hint: 'remount it read-write to run this command; on a read-only lake, lake ls, stats and query still work',
  }),
  ENOTDIR: (where) => ({
    message: `${where}: part of this path is a file where a folder belongs`,
    hint: `move that file out of the way (or point --lake elsewhere); ${CHECK}`,
  }),
  EISDIR: (where) => ({
    message: `${where} is a folder where a file belongs`,
    hint: `move that folder out of the way; ${CHECK}`,
  }),
  EIO: (where, action) => ({
    message: `input/output error: cannot ${action} ${where}`,
    hint: `the disk or network filesystem failed (see dmesg); once it is healthy, ${CHECK}`,
  }),
  EMFILE: () => ({ message: 'too many open files', hint: 'raise the limit (ulimit -n 4096) and run the command again' }),
  ENFILE: () => ({ message: 'the system has too many open files', hint: 'close other programs or raise fs.file-max, then run the command again' }),
};

const ACTIONS: Record<string, string> = {
  open: 'open',
  read: 'read',
  write: 'write',
  mkdir: 'create the folder',
  rename: 'move a finished file to',
  unlink: 'delete',
  rmdir: 'delete the folder',
  rm: 'delete',
  scandir: 'list',
  copyfile: 'copy to',
  fsync: 'flush',
  utime: 'set the time of',
  stat: 'read',
};

function describeFault(fault: Fault, cause: unknown): UserError {
  const where = fault.path ?? 'a file';
  const dir = fault.path ? dirname(fault.path) : 'the lake';
  const action = (fault.syscall && ACTIONS[fault.syscall]) ?? 'write';
  const { message, hint } = FAULTS[fault.code]!(where, action, dir);
  return new UserError(message, { hint, cause });
}
