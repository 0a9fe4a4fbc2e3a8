const escapeXml = (text: string) => text.replace(/[<>&'"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' })[c]!);

/** TwiML that replies with `text` (never an empty Response on a customer-facing path). */
export function messageTwiml(text: string): string {
  return `<?xml version="1.0" encoding="UTF-8"?><Response><Message>${escapeXml(text)}</Message></Response>`;
}

/** TwiML that says nothing: for status callbacks only, where nobody reads it. */
export const emptyTwiml = '<?xml version="1.0" encoding="UTF-8"?><Response/>';
