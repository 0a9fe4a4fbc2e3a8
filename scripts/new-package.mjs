// One-off scaffolder kept for future packages: writes the shared per-package files.
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [dir, name, description] = process.argv.slice(2);
if (!dir || !name || !description) {
  console.error('usage: node scripts/new-package.mjs <dir> <@hardening/name> "<description>"');
  process.exit(2);
}
const write = (file, text) => {
  const path = join(dir, file);
  if (existsSync(path)) return;
  mkdirSync(join(path, '..'), { recursive: true });
  writeFileSync(path, text);
};
// npm packs the package folder's LICENSE, not the repository's.
write('LICENSE', readFileSync(new URL('../LICENSE', import.meta.url), 'utf8'));
// typedoc reads the published sources only (see typedoc.json).
write('tsconfig.docs.json', `${JSON.stringify({ extends: './tsconfig.json', include: ['src'], exclude: ['src/**/*.test.ts', 'src/**/test-*'] }, null, 2)}\n`);
write(
  'package.json',
  JSON.stringify(
    {
      name,
      version: '0.0.0',
      description,
      license: 'MIT',
      author: 'The @hardening contributors',
      // Checked by scripts/check-package-metadata.mjs (pnpm check:packages).
      repository: { type: 'git', url: 'git+https://github.com/hardening-sdk/hardening.git', directory: dir.replace(/\/+$/, '') },
      homepage: `https://github.com/hardening-sdk/hardening/tree/main/${dir.replace(/\/+$/, '')}#readme`,
      bugs: { url: 'https://github.com/hardening-sdk/hardening/issues' },
      type: 'module',
      sideEffects: false,
      engines: { node: '>=20.19' },
      exports: {
        '.': {
          '@hardening/source': './src/index.ts',
          import: { types: './dist/index.d.ts', default: './dist/index.js' },
          require: { types: './dist/index.d.cts', default: './dist/index.cjs' },
        },
        './package.json': './package.json',
      },
      main: './dist/index.cjs',
      module: './dist/index.js',
      types: './dist/index.d.cts',
      files: ['LICENSE', 'dist', 'src', '!src/**/*.test.ts', '!src/**/test-*'],
      scripts: {
        build: 'tsup',
        typecheck: 'tsc --noEmit',
        'test:build': 'publint --strict && attw --pack .',
      },
      publishConfig: { access: 'public' },
      keywords: ['reliability', 'resilience'],
    },
    null,
    2,
  ) + '\n',
);
write(
  'tsconfig.json',
  JSON.stringify(
    {
      extends: '../../tsconfig.base.json',
      compilerOptions: { noEmit: true },
      include: ['src', 'test', '*.ts'],
    },
    null,
    2,
  ) + '\n',
);
write(
  'tsup.config.ts',
  `import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm', 'cjs'],
  dts: true,
  sourcemap: true,
  clean: true,
  target: 'node20',
});
`,
);
write(
  'vitest.config.ts',
  `import { defineProject, mergeConfig } from 'vitest/config';
import shared from '../../vitest.shared.ts';

export default mergeConfig(
  shared,
  defineProject({
    test: { name: '${name.replace('@hardening/', '')}' },
  }),
);
`,
);
write('src/index.ts', `export {};\n`);
