// Heavy provider SDKs (twilio, stripe, bullmq, openai, Slack, the OTel SDK) are imported only
// when their configuration asks for them: at top level they cost every start and every test
// file that imports the app ~1-3 s of module loading whether configured or not (issue 13).

/**
 * A configured SDK (or the app module wrapping it) could not be loaded: names the package
 * and what in the configuration needs it, so start-up fails with a sentence, not a stack.
 */
export class SdkLoadError extends Error {
  override readonly name = 'SdkLoadError';
  readonly code = 'SDK_LOAD_FAILED';

  constructor(
    readonly packageName: string,
    readonly purpose: string,
    cause: unknown,
  ) {
    super(
      `${purpose} needs the ${packageName} package, which could not be loaded (${cause instanceof Error ? cause.message : String(cause)}). Is it installed (npm install ${packageName})?`,
      { cause },
    );
  }
}

/**
 * Imports an optional SDK (or the app module that wraps it) once it is known to be needed.
 *
 * @param packageName - The npm package behind the import, for the error.
 * @param purpose - What needs it, naming the variable that configured it (`'REDIS_URL (BullMQ job queue)'`).
 * @param importer - The `import()` itself, with a literal specifier so types and bundlers follow it.
 * @returns The module namespace.
 * @throws {SdkLoadError} When the import fails.
 * @example
 * ```ts
 * const { WebClient } = await loadOptionalSdk('@slack/web-api', 'SLACK_BOT_TOKEN (Slack Web API)', () => import('@slack/web-api'));
 * ```
 */
export async function loadOptionalSdk<T>(packageName: string, purpose: string, importer: () => Promise<T>): Promise<T> {
  try {
    return await importer();
  } catch (error) {
    throw new SdkLoadError(packageName, purpose, error);
  }
}

/** An SDK loaded at most once, whose loaded value can be read synchronously on hot paths. */
export interface LazySdk<T> {
  /** Loads it (once; a failed load is tried again on the next call). @throws {SdkLoadError} */
  load(): Promise<T>;
  /** The SDK when a {@link LazySdk.load} has finished, else `undefined`. */
  loaded(): T | undefined;
}

/**
 * A cached {@link loadOptionalSdk}: start-up awaits `load()` when the SDK is configured (so
 * a missing package fails the start, not the first request), and request handlers read
 * `loaded()` without awaiting, falling back to `load()` if nothing loaded it first.
 *
 * @param packageName - The npm package, for the error.
 * @param purpose - What needs it, naming the variable that configured it.
 * @param importer - Imports the module and picks the value to keep.
 * @returns The lazily loaded SDK.
 * @example
 * ```ts
 * const stripeSdk = lazySdk('stripe', 'STRIPE_WEBHOOK_SECRET (Stripe webhook signatures)', async () => (await import('stripe')).default);
 * await stripeSdk.load(); // at start-up
 * const Stripe = stripeSdk.loaded(); // later, synchronously
 * ```
 */
export function lazySdk<T>(packageName: string, purpose: string, importer: () => Promise<T>): LazySdk<T> {
  let value: { readonly sdk: T } | undefined;
  let loading: Promise<T> | undefined;
  return {
    load() {
      if (value !== undefined) return Promise.resolve(value.sdk);
      loading ??= loadOptionalSdk(packageName, purpose, importer).then(
        (sdk) => {
          value = { sdk };
          return sdk;
        },
        (error: unknown) => {
          loading = undefined;
          throw error;
        },
      );
      return loading;
    },
    loaded: () => value?.sdk,
  };
}
