// The shared capturing logger (tools/test-support), under the name this package's tests use.
export { captureLogger } from '@hardening/test-support';
export type { CapturingLogger, LogLine } from '@hardening/test-support';
