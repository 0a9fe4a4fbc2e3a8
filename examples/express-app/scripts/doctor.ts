// `pnpm doctor`: is this configuration ready for production? Prints PASS / WARN / FAIL per
// item and exits 1 on any FAIL. Reads the environment like the app does (use
// `node --env-file=.env` or export the variables first); never prints a secret.
import { exitCodeFor, formatReport, runDoctor } from '../src/doctor/doctor.js';
import { loadDotEnv } from '../src/config/dotenv.js';

loadDotEnv();
const items = await runDoctor(process.env);
console.log(`Production readiness report (NODE_ENV=${process.env.NODE_ENV ?? 'development'})\n`);
console.log(formatReport(items));
process.exitCode = exitCodeFor(items);
