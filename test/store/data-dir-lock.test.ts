import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { DataDirInUseError, lockDataDir } from '../../src/store/data-dir-lock.js';

let dataDir: string;
beforeEach(async () => {
  dataDir = await mkdtemp(join(tmpdir(), 'ml-data-dir-lock-'));
});
afterEach(async () => {
  await rm(dataDir, { recursive: true, force: true });
});

const lockFile = () => join(dataDir, 'milestone-ledger.pid');
// A pid no process has: above Linux's pid_max (at most 2^22).
const DEAD_PID = 2 ** 22 + 1;

describe('the DATA_DIR lock', () => {
  it('is refused while a running process (here pid 1, the machine init or a container entry point) holds it, naming that process', async () => {
    await writeFile(lockFile(), '1');

    await expect(lockDataDir(dataDir)).rejects.toThrow(DataDirInUseError);
    await expect(lockDataDir(dataDir)).rejects.toThrow(/is in use by process 1: /);
    expect(await readFile(lockFile(), 'utf8')).toBe('1');
  });

  it('takes over a file naming a process that no longer runs (kill -9), and removes it on release', async () => {
    await writeFile(lockFile(), String(DEAD_PID));

    const release = await lockDataDir(dataDir);
    const held = await readFile(lockFile(), 'utf8');
    release();

    expect(held.split(' ')[0]).toBe(String(process.pid));
    expect(await readdir(dataDir)).toEqual([]);
  });

  it('takes over a file naming a process that has ended and waits only to be collected by its parent (a zombie), as a supervisor that restarts at once leaves it (probe of the embedded database; Linux)', async () => {
    // A shell that starts a child, then becomes `sleep`, which never collects it. The child ends half
    // a second later, once the shell is `sleep`: one that ended before was collected by the shell
    // itself, and there was no zombie (seen once in CI).
    const parent = spawn('sh', ['-c', 'sh -c "sleep 0.5" & echo $!; exec sleep 30'], { stdio: ['ignore', 'pipe', 'ignore'] });
    try {
      const [line] = await once(parent.stdout, 'data');
      const zombie = Number(String(line).trim());
      await expect.poll(async () => (await readFile(`/proc/${zombie}/stat`, 'utf8')).split(') ')[1]?.[0]).toBe('Z');
      await writeFile(lockFile(), String(zombie));

      const release = await lockDataDir(dataDir);
      const held = await readFile(lockFile(), 'utf8');
      release();

      expect(held.split(' ')[0]).toBe(String(process.pid));
    } finally {
      parent.kill('SIGKILL');
    }
  });

  it("takes over a file naming this process's own pid that it does not hold: an earlier process of the same pid wrote it (a container's node is pid 1 at every start)", async () => {
    await writeFile(lockFile(), String(process.pid));

    const release = await lockDataDir(dataDir);
    release();

    expect(await readdir(dataDir)).toEqual([]);
  });

  it('takes over a file naming a live process of that pid that started at another time: the pid was given again, to another program (probe of the embedded database, 2026-12-07; Linux)', async () => {
    const other = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      const pid = other.pid ?? 0;
      const started = async () => (await readFile(`/proc/${pid}/stat`, 'utf8')).split(') ')[1]?.split(' ')[19];
      await expect.poll(started).toMatch(/^\d+$/);
      // The holder as written by a process of this pid that started at tick 1, long before `sleep` did.
      await writeFile(lockFile(), `${pid} 1`);

      const release = await lockDataDir(dataDir);
      const held = await readFile(lockFile(), 'utf8');
      release();

      expect(held).toBe(`${process.pid} ${String(await readFile('/proc/self/stat', 'utf8')).split(') ')[1]?.split(' ')[19]}`);

      // The same process, as it wrote itself: refused, saying how to clear the folder if it is wrong.
      await writeFile(lockFile(), `${pid} ${await started()}`);
      await expect(lockDataDir(dataDir)).rejects.toThrow(`is in use by process ${pid}: an embedded database serves one process at a time (stop that one first; if no process uses the folder, remove ${lockFile()};`);
    } finally {
      other.kill('SIGKILL');
    }
  });
});
