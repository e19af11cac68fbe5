import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { codeOf } from './system-error-code.js';

/**
 * An embedded database's folder (DATA_DIR) is used by one process at a time. PGlite holds the
 * database in its process's memory and writes it to the folder: a second process on the same folder
 * works on a copy of its own, and whichever stops last overwrites what the other acknowledged (a
 * probe ran two services on one folder, both answering 201; after a restart one's events were
 * gone), and `projections:rebuild` run beside the service left a folder PGlite could not open.
 */
export class DataDirInUseError extends Error {
  constructor(dataDir: string, holder: string) {
    super(
      `DATA_DIR=${dataDir} is in use by ${holder}: an embedded database serves one process at a time ` +
        `(stop that one first; if no process uses the folder, remove ${join(dataDir, LOCK_FILE)}; several instances need PostgreSQL, DATABASE_URL)`,
    );
  }
}

/** A DATA_DIR the process cannot make or write to (a file of that name, no permission). */
export class DataDirUnusableError extends Error {
  constructor(dataDir: string, cause: unknown) {
    super(`DATA_DIR=${dataDir} cannot hold the embedded database: ${cause instanceof Error ? cause.message : String(cause)}`, { cause });
  }
}

const LOCK_FILE = 'milestone-ledger.pid';
const ATTEMPTS = 5;
const RETRY_MS = 100;
/** The folders this process holds: a database reopened in it takes what it holds already. */
const held = new Set<string>();

/** What a lock file says of its holder: its pid, and when it started where that can be read (Linux). */
interface Holder {
  readonly pid: number;
  readonly start: string | undefined;
}

/**
 * A process's /proc/<pid>/stat (Linux only) from its state on: the fields after the command's name,
 * in parentheses that it may itself contain. Undefined where there is none.
 */
function statOf(pid: number): string[] | undefined {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return undefined;
  }
}

/**
 * When a process started, in clock ticks since boot (field 22, the twentieth from the state): with
 * its pid, it names one process, where a pid alone is given again to another once its holder has
 * ended.
 */
const startIn = (stat: readonly string[] | undefined): string | undefined => stat?.[19];

/**
 * Whether a process has ended and waits only for its parent to collect it (a zombie, state Z): signals
 * reach it, yet it holds nothing. A service killed with -9 and restarted at once by a supervisor that
 * had not reaped it yet was refused the folder (found by the probe of the embedded database).
 */
const isZombie = (stat: readonly string[] | undefined): boolean => stat?.[0] === 'Z';

/** This process as its lock file names it. */
const myHolderText = (): string => [String(process.pid), startIn(statOf(process.pid))].filter((part) => part !== undefined).join(' ');

/**
 * Whether the process a lock file names runs on this machine (one of another user's included:
 * EPERM). Where the file says when it started, a process of that pid that started at another time
 * is another one: after a kill -9 and a reboot, or on a busy machine, its pid is another program's,
 * which kept the folder refused for good (`sleep` in the probe of 2026-12-07). A file written before
 * 2026-12-07, with the pid alone, is judged by the pid.
 */
function isRunning(holder: Holder): boolean {
  try {
    process.kill(holder.pid, 0);
  } catch (error) {
    return codeOf(error) === 'EPERM';
  }
  const stat = statOf(holder.pid);
  if (isZombie(stat)) return false;
  const start = holder.start === undefined ? undefined : startIn(stat);
  return start === undefined || start === holder.start;
}

/** The holder a lock file's text names: its pid, then its start if it says one. */
function holderIn(text: string): Holder | undefined {
  const [pidText = '', start] = text.trim().split(/\s+/);
  const pid = Number(pidText);
  return Number.isSafeInteger(pid) && pid > 0 ? { pid, start } : undefined;
}

/** The holder a lock file names; undefined if there is none, or it cannot be read (being replaced). */
async function holderOf(path: string): Promise<Holder | undefined> {
  return holderIn(await readFile(path, 'utf8').catch(() => ''));
}

/**
 * Takes the folder for this process: a file naming its pid, made whole before it takes the lock's
 * name (link fails if the name exists), so that no process ever reads it half written. A file naming
 * a process that no longer runs (killed, crashed) is taken over: moved aside first (rename is
 * atomic, so of two processes taking it over one moves it), then read again, and put back if what
 * was moved is no longer the dead one's. Released by the function returned (the database closed),
 * or else when the process exits. The pid is this machine's: processes of other machines or
 * containers sharing the folder are not seen. Not proper-lockfile: it judges a lock stale by the
 * age of its mtime, so a service restarted after kill -9 would wait out that age; a pid says at once.
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  const path = join(dataDir, LOCK_FILE);
  if (held.has(path)) return () => undefined;
  const mine = `${path}.${String(process.pid)}`;
  await writeFile(mine, myHolderText()).catch((error: unknown) => {
    throw new DataDirUnusableError(dataDir, error);
  });
  try {
    for (let attempt = 1; ; attempt++) {
      try {
        await take(mine, path);
        held.add(path);
        const release = () => releaseIfOurs(path);
        process.once('exit', release);
        return () => {
          process.off('exit', release);
          release();
        };
      } catch (error) {
        if (codeOf(error) !== 'EEXIST') throw error;
      }
      const holder = await holderOf(path);
      // This process's own pid in a file it does not hold was written by an earlier process of that
      // pid: a container's node is pid 1 at every start, killed or not.
      if (holder !== undefined && holder.pid !== process.pid && isRunning(holder)) throw new DataDirInUseError(dataDir, `process ${String(holder.pid)}`);
      if (attempt === ATTEMPTS) throw new DataDirInUseError(dataDir, `whatever wrote ${path} (remove it if no process uses the folder)`);
      if (holder !== undefined) await takeOver(path, holder);
      // Unreadable (being replaced) or just taken over: look again in a moment.
      await sleep(RETRY_MS);
    }
  } finally {
    await unlink(mine).catch(() => undefined);
  }
}

/**
 * Gives the whole file `mine` the lock's name, failing with EEXIST if the name is taken. Where the
 * folder's file system has no hard links (FAT, some network mounts), the lock is created with its
 * content instead (exclusive still, but for a moment empty: another process reading it then waits
 * and looks again).
 */
async function take(mine: string, path: string): Promise<void> {
  try {
    await link(mine, path);
  } catch (error) {
    const code = codeOf(error);
    if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
    await writeFile(path, myHolderText(), { flag: 'wx' });
  }
}

/** Moves aside a lock file naming `dead`; puts back what was moved if another process took the name meanwhile. */
async function takeOver(path: string, dead: Holder): Promise<void> {
  const aside = `${path}.stale.${String(process.pid)}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  const moved = await holderOf(aside);
  if (moved !== undefined && moved.pid === dead.pid && moved.start === dead.start) {
    await unlink(aside).catch(() => undefined);
    return;
  }
  await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function releaseIfOurs(path: string): void {
  held.delete(path);
  try {
    if (holderIn(readFileSync(path, 'utf8'))?.pid === process.pid) unlinkSync(path);
  } catch {
    // Gone already, or the folder with it.
  }
}
