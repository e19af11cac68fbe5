import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { setTimeout as sleep } from 'node:timers/promises';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
// Enough to see why a service failed, without holding a long load test's log in memory.
const KEPT_OUTPUT_CHARS = 20_000;

export interface ServiceExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** The real service (by default `node --import tsx src/main.ts`) as a child process, as an orchestrator runs it. */
export interface ServiceProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** The end of what the service wrote to stderr so far. */
  stderr(): string;
  /** The end of what the service wrote to stdout (its log) so far. */
  stdout(): string;
  readonly exited: Promise<ServiceExit>;
}

/** How to start the service: a program and its arguments, run from the repository's root. */
export interface ServiceCommand {
  readonly file: string;
  readonly args: readonly string[];
}

/** The TypeScript sources under node itself, not npx, so that a signal reaches the service and not a wrapper. */
const SOURCE_SERVICE: ServiceCommand = { file: process.execPath, args: ['--import', 'tsx', 'src/main.ts'] };

/**
 * Starts the service on `port` with `env` over this process's environment, without waiting for it to
 * be ready.
 */
export function spawnService(env: Readonly<Record<string, string>>, port: number, command = SOURCE_SERVICE): ServiceProcess {
  const child = spawn(command.file, command.args, {
    cwd: ROOT,
    env: { ...process.env, HOST: '127.0.0.1', PORT: String(port), LOG_LEVEL: 'warn', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const stdout = keepTail(child.stdout);
  const stderr = keepTail(child.stderr);
  // 'close', not 'exit': it comes once stdout and stderr are read to the end, so the output is whole.
  const exited = new Promise<ServiceExit>((resolve) => {
    child.once('close', (code: number | null, signal: NodeJS.Signals | null) => resolve({ code, signal }));
  });
  return { child, port, url: `http://127.0.0.1:${port}`, stderr, stdout, exited };
}

/**
 * Spawns the service on a free port and waits until it is ready. The port is free when chosen but
 * another process may take it before the service listens: then it tries another.
 */
export async function launchService(env: Readonly<Record<string, string>>, command = SOURCE_SERVICE): Promise<ServiceProcess> {
  for (let attempt = 1; ; attempt++) {
    const service = spawnService(env, await findFreePort(), command);
    try {
      await waitUntilReady(service);
      return service;
    } catch (error) {
      await killService(service);
      if (attempt === 3 || !service.stderr().includes('EADDRINUSE')) throw error;
    }
  }
}

/** Resolves once /readyz answers 200; rejects with the service's output if it exits or takes too long. */
export async function waitUntilReady(service: ServiceProcess, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (service.child.exitCode !== null || service.child.signalCode !== null) break;
    const ok = await fetch(`${service.url}/readyz`).then(
      (response) => response.ok,
      () => false,
    );
    if (ok) return;
    await sleep(50);
  }
  await waitForExit(service, 1000);
  throw new Error(`the service did not become ready:\n${service.stderr()}\n${service.stdout()}`);
}

/** How the process exited, or 'timeout' if it still runs after `timeoutMs`. */
export async function waitForExit(service: ServiceProcess, timeoutMs: number): Promise<ServiceExit | 'timeout'> {
  return Promise.race([service.exited, sleep(timeoutMs, 'timeout' as const, { ref: false })]);
}

/** Kills a service a failed test left behind, so that it does not outlive the test run. */
export async function killService(service: ServiceProcess | undefined): Promise<void> {
  if (service === undefined || service.child.exitCode !== null || service.child.signalCode !== null) return;
  service.child.kill('SIGKILL');
  await service.exited;
}

/** A port nothing listens on right now (the kernel picks it), for a service that cannot report the one it got. */
export async function findFreePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  server.close();
  await once(server, 'close');
  if (address === null || typeof address === 'string') throw new Error('expected a TCP address');
  return address.port;
}

function keepTail(stream: NodeJS.ReadableStream | null): () => string {
  let text = '';
  stream?.setEncoding('utf8');
  stream?.on('data', (chunk: string) => {
    text = (text + chunk).slice(-KEPT_OUTPUT_CHARS);
  });
  return () => text;
}
