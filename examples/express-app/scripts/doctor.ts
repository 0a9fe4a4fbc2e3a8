// `pnpm run doctor`: in development (NODE_ENV not production, the default), what works
// locally and what production will need, each missing variable once; exit 0 unless something
// configured is broken. With NODE_ENV=production: PASS / WARN / FAIL per item, exit 1 on any
// FAIL. Reads `.env` and the environment like the app does; never prints a secret.
import { loadDotEnv } from '../src/config/dotenv.js';
import { developmentView, doctorMode, exitCodeFor, formatDevelopmentReport, formatReport, runDoctor } from '../src/doctor/doctor.js';

loadDotEnv();
const items = await runDoctor(process.env);
if (doctorMode(process.env) === 'production') {
  console.log('Production readiness report (NODE_ENV=production)\n');
  console.log(formatReport(items));
  process.exitCode = exitCodeFor(items);
} else {
  const view = developmentView(items);
  console.log(`Development check (NODE_ENV=${process.env.NODE_ENV ?? 'development'}): set NODE_ENV=production for the production verdict\n`);
  console.log(formatDevelopmentReport(view));
  process.exitCode = exitCodeFor(view.local);
}
