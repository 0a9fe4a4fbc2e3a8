// storableText and storableFields (src/ingest/input-text.ts): what PostgreSQL can store, for
// any string (property-based, fast-check), against the definition: NUL removed, then lone
// surrogates replaced by U+FFFD (String.prototype.toWellFormed, ES2024, Node 20).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { storableFields, storableText } from '../../src/ingest/input-text.js';

const definition = (value: string) => (value.replaceAll('\u0000', '') as string & { toWellFormed(): string }).toWellFormed();

/** Strings rich in what matters here: NUL, lone and paired surrogates, emoji, plain text. */
const text = fc
  .array(
    fc.oneof(
      fc.string({ maxLength: 5 }),
      fc.string({ unit: 'binary', maxLength: 5 }),
      fc.constantFrom('\u0000', '\ud800', '\udc00', '\ud83d\ude00', '😀', 'é', '+1555'),
    ),
    {
      maxLength: 12,
    },
  )
  .map((parts) => parts.join(''));

describe('storableText', () => {
  it('is the definition for any string, and returns clean text as it is', () => {
    fc.assert(
      fc.property(text, (value) => {
        const stored = storableText(value);
        expect(stored).toBe(definition(value));
        expect(stored.includes('\u0000')).toBe(false);
      }),
      { numRuns: 2000 },
    );
    expect(storableText('call me\u0000 back')).toBe('call me back');
    expect(storableText('\ud800\u0000\udc00')).toBe('\ud800\udc00');
    expect(storableText('lone \udfff and 😀')).toBe('lone \ufffd and 😀');
  });
});

describe('storableFields', () => {
  it('keeps string fields storable and the originals of those that changed, JSON-escaped', () => {
    const { fields, escaped } = storableFields({ Body: 'Hi\u0000 😀', From: '+15551230001', To: ['a', 'b'], 'Odd\u0000Key': 'v\ud800' });
    expect(fields).toEqual({ Body: 'Hi 😀', From: '+15551230001', OddKey: 'v\ufffd' });
    expect(escaped).toEqual({ Body: 'Hi\\u0000 😀', OddKey: 'v\\ud800' });
  });
});
