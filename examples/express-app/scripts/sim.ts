// `pnpm sim ...`: see scripts/sim/simulator.ts (and `pnpm sim help`).
import { runSim, SimUsageError } from './sim/simulator.js';
import { loadDotEnv } from '../src/config/dotenv.js';

loadDotEnv();
try {
  const result = await runSim(process.argv.slice(2));
  process.exitCode = result.status >= 400 ? 1 : 0;
} catch (error) {
  if (!(error instanceof SimUsageError)) throw error;
  console.error(`pnpm sim: ${error.message}`);
  process.exitCode = 1;
}
