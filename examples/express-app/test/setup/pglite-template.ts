// Runs before each test file: in-memory PGlite databases of this file start from the migrated
// template the global setup made (initdb and migrations skipped; the migrator still checks it).
import { readFile } from 'node:fs/promises';
import { inject } from 'vitest';
import { useMemoryTemplate } from '../../src/db/pglite-template.js';

useMemoryTemplate(new Blob([await readFile(inject('pgliteTemplate'))]));
