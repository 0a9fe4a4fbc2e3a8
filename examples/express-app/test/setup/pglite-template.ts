// Runs before each test file: in-memory PGlite databases of this file start from the migrated
// template the global setup made (initdb and migrations skipped; the migrator still checks it).
// Set again before every file, so a file that changed the template cannot leak it to the next.
import { inject } from 'vitest';
import { useMemoryTemplate } from '../../src/db/pglite-template.js';
import { templateDump } from './template-dump.js';

useMemoryTemplate(await templateDump(inject('pgliteTemplate')));
