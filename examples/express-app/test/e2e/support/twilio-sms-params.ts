// The form Twilio posts to an SMS webhook, with its usual fields: shared by the end-to-end
// tests and `pnpm bench:app` (bench/app/sms-traffic.ts), so both send what Twilio sends.

/** The POST parameters of an inbound SMS webhook (`MessageSid` doubles as the legacy `SmsSid`). */
export function twilioSmsParams(input: { messageSid: string; from: string; to: string; body: string; accountSid: string }): Record<string, string> {
  const { messageSid: sid, from, to, body, accountSid } = input;
  return {
    ToCountry: 'US',
    ToState: 'CA',
    SmsMessageSid: sid,
    NumMedia: '0',
    ToCity: '',
    FromZip: '',
    SmsSid: sid,
    FromState: 'CA',
    SmsStatus: 'received',
    FromCity: '',
    Body: body,
    FromCountry: 'US',
    To: to,
    ToZip: '',
    NumSegments: '1',
    MessageSid: sid,
    AccountSid: accountSid,
    From: from,
    ApiVersion: '2010-04-01',
  };
}
