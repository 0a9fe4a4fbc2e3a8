// Loaded into the app's process by the `pnpm bench:app` soak mode (soak.ts), with
// `--import`: answers the bench's IPC requests for the app's own memory figures, which
// /proc cannot give (V8 heap, external, array buffers), and writes heap snapshots on
// request. It adds no timer and no work of its own between requests.
import { writeHeapSnapshot } from 'node:v8';

/** What the soak asks the app for: its memory, or a heap snapshot written to `file`. */
export type SoakProbeAsk = { readonly cmd: 'memory' } | { readonly cmd: 'snapshot'; readonly file: string };

/** A {@link SoakProbeAsk} on the IPC channel, with the id its answer carries. */
export type SoakProbeRequest = SoakProbeAsk & { readonly id: number };

/** The app's memory as one sample, in bytes; `liveHeapUsed` after a forced full GC. */
export interface SoakProbeMemory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly liveHeapUsed: number;
}

const gc = (globalThis as { gc?: () => void }).gc;

if (process.send !== undefined) {
  // The channel must not keep the app alive: its graceful shutdown decides when it exits.
  process.channel?.unref();
  process.on('message', (message: SoakProbeRequest) => {
    if (message.cmd === 'memory') {
      // RSS and heap as the traffic left them, then the live heap after a full GC (what a
      // leak grows); the GC comes second so it does not flatter the RSS figure.
      const before = process.memoryUsage();
      gc?.();
      const after = process.memoryUsage();
      const memory: SoakProbeMemory = {
        rss: before.rss,
        heapUsed: before.heapUsed,
        heapTotal: before.heapTotal,
        external: before.external,
        arrayBuffers: before.arrayBuffers,
        liveHeapUsed: gc === undefined ? Number.NaN : after.heapUsed,
      };
      process.send?.({ id: message.id, memory });
    } else if (message.cmd === 'snapshot') {
      process.send?.({ id: message.id, file: writeHeapSnapshot(message.file) });
    }
  });
}
