import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  entry: { index: 'src/index.ts', 'detectors/index': 'src/detectors/index.ts', 'reporting/index': 'src/reporting/index.ts' },
  dts: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url (createRequire for the optional @opentelemetry/api peer) in the CJS build.
  shims: true,
};

export default defineConfig([
  { ...shared, format: 'esm', clean: true },
  // p-limit (and its yocto-queue) ship ESM only. Node >= 20.19 can require() them, but
  // esbuild's CJS interop then misses the default export, and older tools (jest, some
  // bundlers) cannot at all: the CJS build carries its own copy, as core's does for p-retry.
  { ...shared, format: 'cjs', noExternal: ['p-limit', 'yocto-queue'] },
]);
