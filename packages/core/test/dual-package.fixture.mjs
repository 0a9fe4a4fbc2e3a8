// Loads @hardening/core twice, as CJS and as ESM, the way an app and a dependency might.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const cjs = require('../dist/index.cjs');
const esm = await import('../dist/index.js');
const out = {};
out.twoCopies = cjs.safeCall !== esm.safeCall;
const fromEsm = new esm.TimeoutError('twilio_sms', 100);
out.instanceofAcross = fromEsm instanceof cjs.TimeoutError;
out.guardAcross = cjs.isTimeoutError(fromEsm) && cjs.isHardeningError(fromEsm) && !cjs.isRetriesExhaustedError(fromEsm);
out.sameRegistry = cjs.getDefaultRegistry() === esm.getDefaultRegistry();
const silent = { debug() {}, info() {}, warn() {}, error() {} };
const fail = () => Promise.reject(Object.assign(new Error('down'), { status: 503 }));
for (let i = 0; i < 3; i++)
  await esm
    .createSafeCall({ logger: silent })('dual_load_service', fail, { attempts: 1 })
    .catch(() => {});
const refusal = await cjs
  .createSafeCall({ logger: silent })('dual_load_service', async () => 'ran')
  .catch((e) => e);
out.breakerSharedAcross = cjs.isCircuitOpenError(refusal) && esm.isCircuitOpenError(refusal);
console.log(JSON.stringify(out));
