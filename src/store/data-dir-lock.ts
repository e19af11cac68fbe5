import { readFileSync, unlinkSync } from 'node:fs';
import { readFile, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * An embedded database's folder (DATA_DIR) is used by one process at a time. PGlite holds the
 * database in its process's memory and writes it to the folder: a second process on the same folder
 * works on a copy of its own, and whichever stops last overwrites what the other acknowledged (a
 * probe ran two services on one folder, both answering 201; after a restart one's events were
 * gone), and `projections:rebuild` run beside the service left a folder PGlite could not open.
 */
export class DataDirInUseError extends Error {
  constructor(dataDir: string, pid: number) {
    super(
      `DATA_DIR=${dataDir} is in use by process ${String(pid)}: an embedded database serves one process at a time ` +
        '(stop that one first; several instances need PostgreSQL, DATABASE_URL)',
    );
  }
}

const LOCK_FILE = 'milestone-ledger.pid';

/** Whether a process with this pid runs (one of another user's included: EPERM). */
function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return error instanceof Error && 'code' in error && error.code === 'EPERM';
  }
}

/**
 * Takes the folder for this process: a file naming its pid, created only if none is there. One left
 * by a process that no longer runs (killed, crashed) is taken over; one of this process (a database
 * reopened in it) is kept. Released by the function returned (the database closed), or else when
 * the process exits.
 */
export async function lockDataDir(dataDir: string): Promise<() => void> {
  const path = join(dataDir, LOCK_FILE);
  const release = () => releaseIfOurs(path);
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(path, String(process.pid), { flag: 'wx' });
      process.once('exit', release);
      return () => {
        process.off('exit', release);
        release();
      };
    } catch (error) {
      if (!(error instanceof Error && 'code' in error && error.code === 'EEXIST')) throw error;
    }
    const holder = Number((await readFile(path, 'utf8').catch(() => '')).trim());
    // Held by this process already: whoever took it releases it.
    if (holder === process.pid) return () => undefined;
    if (Number.isSafeInteger(holder) && holder > 0 && isRunning(holder)) throw new DataDirInUseError(dataDir, holder);
    // Its process is gone: the file goes, and the next attempt creates it (or finds who came first).
    await unlink(path).catch(() => undefined);
  }
  throw new DataDirInUseError(dataDir, Number((await readFile(path, 'utf8').catch(() => '0')).trim()));
}

function releaseIfOurs(path: string): void {
  try {
    if (readFileSync(path, 'utf8').trim() === String(process.pid)) unlinkSync(path);
  } catch {
    // Gone already, or the folder with it.
  }
}
