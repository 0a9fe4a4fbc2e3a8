// The console's two hand-written pieces, without a browser: the escaping template and the
// signed session cookie.
import { describe, expect, it } from 'vitest';
import { html } from '../../src/console/html.js';
import { ConsoleSessions, needsSecureCookie } from '../../src/console/session.js';

describe('html template', () => {
  it('escapes every interpolated value, in text and in quoted attributes, but not nested fragments', () => {
    const hostile = `<script>alert("x")</script>' onmouseover='x' &amp;`;
    const out = html`<p title="${hostile}">${hostile}${html`<b>${hostile}</b>`}${[1, hostile]}${undefined}${null}${false}</p>`.value;
    expect(out).not.toContain('<script>');
    expect(out).not.toMatch(/'\s*onmouseover/);
    expect(out).toBe(
      '<p title="&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &amp;amp;">' +
        '&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &amp;amp;' +
        '<b>&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &amp;amp;</b>' +
        '1&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;&#39; onmouseover=&#39;x&#39; &amp;amp;</p>',
    );
  });
});

describe('ConsoleSessions', () => {
  const adminToken = 'console-test-admin-token-0123456789';

  it('accepts what it issued until it expires, and nothing forged, altered or signed with another token', () => {
    let now = 1_000_000;
    const sessions = new ConsoleSessions({ adminToken, ttlMs: 60_000, now: () => now });
    const value = sessions.issue();
    expect(sessions.verify(value)).toMatchObject({ expiresAt: 1_060_000 });
    expect(value).not.toContain(adminToken);

    const [expiry, id, mac] = value.split('.') as [string, string, string];
    expect(sessions.verify(`${Number(expiry) + 3_600_000}.${id}.${mac}`)).toBeUndefined(); // extended by hand
    expect(sessions.verify(`${expiry}.${id}x.${mac}`)).toBeUndefined();
    // Altered for sure: the first character (all its bits count) is always changed (the old
    // 'last character to A' left one MAC in 64 unchanged, and the test failed then).
    expect(sessions.verify(`${expiry}.${id}.${mac[0] === 'A' ? 'B' : 'A'}${mac.slice(1)}`)).toBeUndefined();
    expect(sessions.verify(undefined)).toBeUndefined();
    expect(sessions.verify('a.b')).toBeUndefined();
    expect(new ConsoleSessions({ adminToken: `${adminToken}-rotated`, now: () => now }).verify(value)).toBeUndefined();

    now = 1_060_000;
    expect(sessions.verify(value)).toBeUndefined();
  });

  it('gives every sign-in its own id', () => {
    const sessions = new ConsoleSessions({ adminToken });
    expect(sessions.verify(sessions.issue())!.id).not.toBe(sessions.verify(sessions.issue())!.id);
  });

  it('requires Secure cookies everywhere but on loopback', () => {
    expect(['localhost', '127.0.0.1', '::1', '[::1]'].map((hostname) => needsSecureCookie({ hostname }))).toEqual([false, false, false, false]);
    expect(needsSecureCookie({ hostname: 'ops.example.com' })).toBe(true);
  });
});
