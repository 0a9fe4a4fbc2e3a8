import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  entry: { index: 'src/index.ts', prisma: 'src/prisma/index.ts' },
  dts: true,
  sourcemap: true,
  target: 'node20',
  // import.meta.url (createRequire for the optional @opentelemetry/api peer) in the CJS build.
  shims: true,
};

export default defineConfig([
  { ...shared, format: 'esm', clean: true },
  // is-network-error ships ESM only. Node >= 20.19 can require() it, but older tools
  // (jest, some bundlers) cannot: the CJS build carries its own copy.
  { ...shared, format: 'cjs', noExternal: ['is-network-error'] },
]);
