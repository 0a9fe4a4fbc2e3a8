import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

// Each case runs in a fresh process, so that the order in which this package and
// `@opentelemetry/api` first touch OTel's global is the one the case describes
// (otel-global.ts watches the global key and the provider fields).
const here = fileURLToPath(new URL('.', import.meta.url));

async function run(script: string, preload: string[] = []): Promise<unknown> {
  const { stdout, stderr } = await promisify(execFile)(
    process.execPath,
    [...preload, '--conditions=@hardening/source', '--import', 'tsx', '--input-type=module', '-e', script],
    { cwd: here, encoding: 'utf8' },
  );
  expect(stderr).toBe('');
  return JSON.parse(stdout);
}

const sdk = `
const { metrics, trace } = await import('@opentelemetry/api');
const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
`;

// The cases share nothing (each is its own process), so they run at once: a tsx start-up is
// seconds on a busy machine, and four of them one after the other made this file slow.
describe.concurrent('TelemetryScope', () => {
  it('sees providers registered after it loaded, their removal, and a second registration', async () => {
    const seen = await run(`
const { TelemetryScope } = await import('./telemetry-scope.ts');
const { otelWatch } = await import('./otel-global.ts');
const scope = new TelemetryScope('probe', () => ({ built: true }));
const before = scope.current();
${sdk}
const first = scope.current();
metrics.setGlobalMeterProvider(new MeterProvider());
const withMetrics = scope.current();
trace.setGlobalTracerProvider(new BasicTracerProvider());
const withBoth = scope.current();
metrics.disable();
const traceOnly = scope.current();
trace.disable();
const after = scope.current();
const watchingAgain = otelWatch.maybe === false;
trace.setGlobalTracerProvider(new BasicTracerProvider());
const again = scope.current();
trace.disable();
metrics.setGlobalMeterProvider(new MeterProvider());
const metricsAgain = scope.current();
console.log(JSON.stringify({
  before: before === undefined,
  first: first === undefined,
  metricsOnly: withMetrics?.instruments?.built === true && withMetrics.tracer === undefined,
  both: withBoth?.tracer !== undefined && withBoth?.instruments?.built === true,
  traceOnly: traceOnly?.tracer !== undefined && traceOnly.instruments === undefined,
  after: after === undefined,
  watchingAgain,
  again: again?.tracer !== undefined,
  metricsAgain: metricsAgain?.instruments?.built === true && metricsAgain.tracer === undefined,
}));
`);
    expect(seen).toEqual({
      before: true,
      first: true,
      metricsOnly: true,
      both: true,
      traceOnly: true,
      after: true,
      watchingAgain: true,
      again: true,
      metricsAgain: true,
    });
  });

  it('sees a provider registered before it loaded, and one registered after an earlier one was removed', async () => {
    const seen = await run(`
${sdk}
trace.setGlobalTracerProvider(new BasicTracerProvider());
const { TelemetryScope } = await import('./telemetry-scope.ts');
const { otelWatch } = await import('./otel-global.ts');
const scope = new TelemetryScope('probe', () => ({ built: true }));
const registered = scope.current();
trace.disable();
const removed = scope.current();
const watching = otelWatch.maybe === false;
metrics.setGlobalMeterProvider(new MeterProvider());
const later = scope.current();
console.log(JSON.stringify({
  registered: registered?.tracer !== undefined,
  removed: removed === undefined,
  watching,
  later: later?.instruments?.built === true,
}));
`);
    expect(seen).toEqual({ registered: true, removed: true, watching: true, later: true });
  });

  it('leaves OTel able to read and replace its globals through the watched fields', async () => {
    const seen = await run(`
const { TelemetryScope } = await import('./telemetry-scope.ts');
const scope = new TelemetryScope('probe', () => ({ built: true }));
${sdk}
// OTel's own context and propagation globals are untouched; its duplicate check still works.
const provider = new BasicTracerProvider();
const firstTime = trace.setGlobalTracerProvider(provider);
const duplicate = trace.setGlobalTracerProvider(new BasicTracerProvider());
const span = trace.getTracer('t').startSpan('s');
const recording = span.isRecording();
span.end();
const global = globalThis[Symbol.for('opentelemetry.js.api.1')];
console.log(JSON.stringify({
  firstTime,
  duplicate,
  recording,
  sameProvider: trace.getTracerProvider().getDelegate() === provider,
  version: typeof global.version,
  live: scope.current()?.tracer !== undefined,
}));
`);
    expect(seen).toEqual({ firstTime: true, duplicate: false, recording: true, sameProvider: true, version: 'string', live: true });
  });

  it('stays off, without throwing, when @opentelemetry/api is not installed', async () => {
    // The preload makes `@opentelemetry/api` unresolvable, as in an app that never installed it.
    const hide = `
import Module from 'node:module';
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === '@opentelemetry/api') throw Object.assign(new Error("Cannot find module '@opentelemetry/api'"), { code: 'MODULE_NOT_FOUND' });
  return resolve.call(this, request, ...rest);
};
`;
    const seen = await run(
      `
const { TelemetryScope } = await import('./telemetry-scope.ts');
const scope = new TelemetryScope('probe', () => ({ built: true }));
const before = scope.current();
// Another library's copy of the API registers a tracer provider (with the API installed,
// the scope would hand out its tracer): still nothing this package can load the API for.
globalThis[Symbol.for('opentelemetry.js.api.1')] = { version: '1.999.0' };
globalThis[Symbol.for('opentelemetry.js.api.1')].trace = { getTracer: () => ({}) };
const after = scope.current();
console.log(JSON.stringify({ before: before === undefined, after: after === undefined }));
`,
      ['--import', `data:text/javascript,${encodeURIComponent(hide)}`],
    );
    expect(seen).toEqual({ before: true, after: true });
  });
});
