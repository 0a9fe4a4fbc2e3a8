import twilio from 'twilio';

/** The Twilio REST client the app uses. */
export type TwilioClient = ReturnType<typeof twilio>;

/**
 * A Twilio REST client. With `apiBaseUrl` every request goes to that origin instead of
 * Twilio's (keeping the path): for regional or proxied endpoints, and for the local server
 * the demo and the tests use. The SDK itself (auth, form encoding, errors) is unchanged.
 */
export function createTwilioClient(accountSid: string, authToken: string, apiBaseUrl?: string): TwilioClient {
  if (apiBaseUrl === undefined) return twilio(accountSid, authToken);
  const origin = new URL(apiBaseUrl).origin;
  const requestClient = new twilio.RequestClient();
  return twilio(accountSid, authToken, {
    httpClient: {
      request: (opts: { uri: string }) => requestClient.request({ ...opts, uri: opts.uri.replace(/^https?:\/\/[^/]+/, origin) } as never),
    } as never,
  });
}
