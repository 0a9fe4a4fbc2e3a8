import { defineConfig, type Options } from 'tsup';

const shared: Options = {
  entry: { index: 'src/index.ts', prisma: 'src/prisma/index.ts' },
  dts: false,
  sourcemap: true,
  target: 'node20',
  // import.meta.url (createRequire for the optional @opentelemetry/api peer) in the CJS build.
  shims: true,
};

// `tsup --no-dts` (the test command's `build:js`) skips the declarations pass: only the
// cross-copy ESM/CJS tests need the build, and they load JavaScript. Without this the dts-only
// entry below would, with `dts` switched off, build both formats a second time (without the
// CJS entry's noExternal) into the same files.
export default defineConfig((cli) => [
  { ...shared, format: 'esm', clean: true },
  // is-network-error ships ESM only. Node >= 20.19 can require() it, but older tools
  // (jest, some bundlers) cannot: the CJS build carries its own copy.
  { ...shared, format: 'cjs', noExternal: ['is-network-error'] },
  // The declarations once, for both formats (.d.ts and .d.cts from one pass): a DTS pass
  // per JS config type-checked the package twice, the slowest step of `pnpm build`.
  ...(cli.dts === false ? [] : [{ ...shared, format: ['esm', 'cjs'], dts: { only: true } } satisfies Options]),
]);
