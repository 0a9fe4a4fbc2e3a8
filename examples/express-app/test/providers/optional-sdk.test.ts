import { describe, expect, it } from 'vitest';
import { lazySdk, loadOptionalSdk, SdkLoadError } from '../../src/providers/optional-sdk.js';

// A package that is not installed: the real failure a configured but missing SDK gives.
const missing = '@hardening/no-such-sdk';
const importMissing = () => import(/* @vite-ignore */ missing) as Promise<unknown>;

describe('optional SDKs', () => {
  it('loads a configured SDK with import()', async () => {
    const { WebClient } = await loadOptionalSdk('@slack/web-api', 'SLACK_BOT_TOKEN (Slack Web API)', () => import('@slack/web-api'));
    expect(typeof WebClient).toBe('function');
  });

  it('fails with an SdkLoadError naming the package and the variable that asked for it', async () => {
    const error = await loadOptionalSdk(missing, 'SOME_API_KEY (some provider)', importMissing).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SdkLoadError);
    expect(error).toMatchObject({ code: 'SDK_LOAD_FAILED', packageName: missing, purpose: 'SOME_API_KEY (some provider)' });
    expect((error as Error).message).toMatch(
      /^SOME_API_KEY \(some provider\) needs the @hardening\/no-such-sdk package, which could not be loaded \(.+\)\. Is it installed/,
    );
    expect((error as Error).cause).toBeInstanceOf(Error);
  });

  it('lazySdk imports once, and reads the loaded SDK synchronously afterwards', async () => {
    let imports = 0;
    const sdk = lazySdk('@slack/web-api', 'SLACK_BOT_TOKEN', async () => {
      imports += 1;
      return (await import('@slack/web-api')).WebClient;
    });
    expect(sdk.loaded()).toBeUndefined();
    const [a, b] = await Promise.all([sdk.load(), sdk.load()]);
    expect(a).toBe(b);
    expect(sdk.loaded()).toBe(a);
    await sdk.load();
    expect(imports).toBe(1);
  });

  it('lazySdk tries again after a failed load instead of caching the failure', async () => {
    let attempts = 0;
    const sdk = lazySdk(missing, 'SOME_API_KEY', async () => {
      attempts += 1;
      if (attempts === 1) return importMissing();
      return 'loaded';
    });
    await expect(sdk.load()).rejects.toBeInstanceOf(SdkLoadError);
    expect(sdk.loaded()).toBeUndefined();
    await expect(sdk.load()).resolves.toBe('loaded');
    expect(attempts).toBe(2);
  });
});
