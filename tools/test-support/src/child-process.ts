import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Forks a TypeScript worker as a separate Node process (tsx loader, workspace packages
 * resolved to their source), with an IPC channel.
 *
 * @param script - Absolute path or file URL of the worker.
 * @param env - Extra environment variables.
 */
export function forkTs(script: string | URL, env: Record<string, string> = {}): ChildProcess {
  const path = script instanceof URL ? fileURLToPath(script) : script;
  return fork(path, [], {
    execArgv: ['--import', 'tsx', '--conditions=@hardening/source'],
    env: { ...process.env, ...env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
}

/** Sends a request over IPC and resolves with the reply that carries the same id. */
export function ask<T>(child: ChildProcess, message: Record<string, unknown>, timeoutMs = 10_000): Promise<T> {
  const id = Math.random().toString(36).slice(2);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.off('message', onMessage);
      reject(new Error(`worker did not answer ${JSON.stringify(message)} within ${timeoutMs} ms`));
    }, timeoutMs);
    const onMessage = (reply: { id?: string; error?: string } & T) => {
      if (reply?.id !== id) return;
      clearTimeout(timer);
      child.off('message', onMessage);
      if (reply.error !== undefined) reject(new Error(reply.error));
      else resolve(reply);
    };
    child.on('message', onMessage);
    child.send({ ...message, id });
  });
}

/**
 * The worker side: answers each IPC request with what `handler` returns or resolves to (or its error).
 */
export function serveRequests(handler: (message: Record<string, unknown>) => unknown): void {
  process.on('message', (message: Record<string, unknown>) => {
    void (async () => {
      try {
        const result = await handler(message);
        process.send!({ ...(result as object), id: message.id });
      } catch (error) {
        process.send!({ id: message.id, error: error instanceof Error ? error.message : String(error) });
      }
    })();
  });
  process.send!({ ready: true });
}

/**
 * Resolves once the worker says it is ready. The default budget is generous: a forked
 * TypeScript worker (tsx, Prisma client) took over 15 s to start on a busy 2-core machine,
 * and start-up speed is not what any test checks.
 */
export function waitReady(child: ChildProcess, timeoutMs = 60_000): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`worker did not start within ${timeoutMs} ms`)), timeoutMs);
    child.on('message', function onReady(message: { ready?: boolean }) {
      if (message?.ready) {
        clearTimeout(timer);
        child.off('message', onReady);
        resolve();
      }
    });
    child.once('exit', (code) => reject(new Error(`worker exited early with code ${code}`)));
  });
}

/** Waits until `predicate` resolves true, polling every `intervalMs`. */
export async function eventually(predicate: () => Promise<boolean> | boolean, timeoutMs = 5000, intervalMs = 25): Promise<void> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    if (await predicate()) return;
    if (Date.now() > until) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
