import { writeFileSync } from 'node:fs';
import { dumpMigratedPglite } from './src/db/pglite-template.ts';
import { silentLogger } from '@hardening/core';
writeFileSync('/tmp/tt/template.tar', Buffer.from(await (await dumpMigratedPglite(silentLogger)).arrayBuffer()));
