import { readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The first ```ts block of a package's README. A package keeps that example as a file
 * under `examples/` and its test checks the README text is that file, byte for byte, then
 * runs the file: the README's first example cannot rot.
 *
 * @example
 * ```ts
 * expect(readmeFirstExample(packageDir)).toBe(readFileSync(join(packageDir, 'examples/readme.ts'), 'utf8'));
 * ```
 * @throws Error when the README has no ts code block.
 */
export function readmeFirstExample(packageDir: string): string {
  const readme = readFileSync(join(packageDir, 'README.md'), 'utf8');
  const match = /```ts\n([\s\S]*?)```/.exec(readme);
  if (match === null) throw new Error(`${packageDir}/README.md has no ts code block`);
  return match[1]!;
}
