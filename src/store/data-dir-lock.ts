import { readFileSync, unlinkSync } from 'node:fs';
import { link, readFile, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

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
        '(stop that one first; several instances need PostgreSQL, DATABASE_URL)',
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

const codeOf = (error: unknown): unknown => (error instanceof Error && 'code' in error ? error.code : undefined);

/** Whether a process with this pid runs on this machine (one of another user's included: EPERM). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return codeOf(error) === 'EPERM';
  }
  return !isZombie(pid);
}

/**
 * Whether a process has ended and waits only for its parent to collect it (a zombie, state Z in
 * /proc/<pid>/stat; Linux only): signals reach it, yet it holds nothing. A service killed with -9
 * and restarted at once by a supervisor that had not reaped it yet was refused the folder (found
 * by the probe of the embedded database).
 */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${String(pid)}/stat`, 'utf8');
    // The state follows the command's name, in parentheses that it may itself contain.
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) === 'Z';
  } catch {
    return false;
  }
}

/** The pid a lock file names; undefined if there is none, or it cannot be read (being replaced). */
async function holderOf(path: string): Promise<number | undefined> {
  const text = await readFile(path, 'utf8').catch(() => '');
  const pid = Number(text.trim());
  return Number.isSafeInteger(pid) && pid > 0 ? pid : undefined;
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
  await writeFile(mine, String(process.pid)).catch((error: unknown) => {
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
      if (holder !== undefined && holder !== process.pid && isRunning(holder)) throw new DataDirInUseError(dataDir, `process ${String(holder)}`);
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
    await writeFile(path, String(process.pid), { flag: 'wx' });
  }
}

/** Moves aside a lock file naming `dead`; puts back what was moved if another process took the name meanwhile. */
async function takeOver(path: string, dead: number): Promise<void> {
  const aside = `${path}.stale.${String(process.pid)}`;
  try {
    await rename(path, aside);
  } catch {
    return;
  }
  if ((await holderOf(aside)) === dead) {
    await unlink(aside).catch(() => undefined);
    return;
  }
  await link(aside, path).catch(() => undefined);
  await unlink(aside).catch(() => undefined);
}

function releaseIfOurs(path: string): void {
  held.delete(path);
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch {
    // Gone already, or the folder with it.
  }
}
