import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

// A fresh process, so that this package loads before `@opentelemetry/api` has made its
// global: the scope must still see a provider registered afterwards (telemetry-scope.ts
// watches the global key).
const script = `
const { TelemetryScope } = await import('./telemetry-scope.ts');
const scope = new TelemetryScope('probe', () => ({ built: true }));
const before = scope.current();
const { metrics, trace } = await import('@opentelemetry/api');
const { MeterProvider } = await import('@opentelemetry/sdk-metrics');
const { BasicTracerProvider } = await import('@opentelemetry/sdk-trace-base');
const first = scope.current();
metrics.setGlobalMeterProvider(new MeterProvider());
const withMetrics = scope.current();
trace.setGlobalTracerProvider(new BasicTracerProvider());
const withBoth = scope.current();
metrics.disable();
trace.disable();
const after = scope.current();
console.log(JSON.stringify({
  before: before === undefined,
  first: first === undefined,
  metricsOnly: withMetrics?.instruments?.built === true && withMetrics.tracer === undefined,
  both: withBoth?.tracer !== undefined && withBoth?.instruments?.built === true,
  after: after === undefined,
}));
`;

describe('TelemetryScope', () => {
  it('sees providers registered after it loaded, and their removal', () => {
    const run = spawnSync(process.execPath, ['--conditions=@hardening/source', '--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('.', import.meta.url)),
      encoding: 'utf8',
    });
    expect(run.stderr).toBe('');
    expect(JSON.parse(run.stdout)).toEqual({ before: true, first: true, metricsOnly: true, both: true, after: true });
  });
});
