// The migrated PGlite dump of this run, read from its file once per worker: with
// `isolate: false` the test files share this module, and the 41 MB file was read again (and a
// new Blob kept until collected) before each of the app's 73 files.
import { readFile } from 'node:fs/promises';

const dumps = new Map<string, Promise<Blob>>();

/**
 * The dump stored at `path`, read once per worker.
 *
 * @param path - the file the global setup wrote (`inject('pgliteTemplate')`).
 * @returns the dump, the same Blob on every call with the same path.
 */
export function templateDump(path: string): Promise<Blob> {
  let dump = dumps.get(path);
  if (dump === undefined) {
    dump = readFile(path).then((bytes) => new Blob([bytes]));
    dumps.set(path, dump);
  }
  return dump;
}
