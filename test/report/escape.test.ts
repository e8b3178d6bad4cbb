import { describe, expect, it } from 'vitest';
import { escapeHtml, html, trusted } from '../../src/report/escape.ts';

describe('escapeHtml', () => {
  it('turns every character that could open markup or close an attribute into an entity', () => {
    // Given text with each special character
    const text = `<a href="x" onclick='y'>&amp;</a>`;
    // When escaped
    const out = escapeHtml(text);
    // Then none of < > " ' survives and & is escaped first (no double decoding back to markup)
    expect(out).toBe('&lt;a href=&quot;x&quot; onclick=&#39;y&#39;&gt;&amp;amp;&lt;/a&gt;');
    expect(out).not.toMatch(/[<>"']/);
  });

  it('renders null and undefined as empty text and numbers as text', () => {
    expect(escapeHtml(null)).toBe('');
    expect(escapeHtml(undefined)).toBe('');
    expect(escapeHtml(42)).toBe('42');
  });
});

describe('html template', () => {
  it('escapes interpolated stream strings in text and attribute positions', () => {
    // Given a hostile event name
    const name = '<script>alert(1)</script>';
    // When interpolated as content and as an attribute value
    const out = html`<p title="${name}">${name}</p>`.value;
    // Then the result contains no script element, only its text
    expect(out).toBe('<p title="&lt;script&gt;alert(1)&lt;/script&gt;">&lt;script&gt;alert(1)&lt;/script&gt;</p>');
  });

  it('does not escape markup it built itself or markup marked trusted, and joins arrays', () => {
    const rows = ['a<b', 'c&d'].map((x) => html`<li>${x}</li>`);
    expect(html`<ul>${rows}</ul>${trusted('<svg></svg>')}`.value).toBe('<ul><li>a&lt;b</li><li>c&amp;d</li></ul><svg></svg>');
  });

  it('quote breakouts cannot add attributes', () => {
    const evil = '" onmouseover="alert(1)';
    const out = html`<span data-x="${evil}"></span>`.value;
    expect(out).toBe('<span data-x="&quot; onmouseover=&quot;alert(1)"></span>');
  });
});
