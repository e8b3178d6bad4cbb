import { describe, expect, it } from 'vitest';
import { sanitize } from '../../src/text.ts';
import { buckets, bytes, compact, duration, fit, sparkline } from '../../src/tui/format.ts';

describe('sanitize', () => {
  it('drops CSI, OSC and single-character escapes, C0/C1 controls and bidi overrides', () => {
    const hostile = 'a\u001b[2J\u001b[31mb\u001b]0;title\u0007c\u001b]8;;http://x\u001b\\d\u009b1me\u0000f\u007fg\u202eh\u001bci';
    expect(sanitize(hostile)).toBe('abcdefghi');
  });

  it('turns line breaks and tabs into single spaces and keeps ordinary Unicode', () => {
    expect(sanitize('Café\r\n\tMünchen — 東京 🎉')).toBe('Café München — 東京 🎉');
  });

  it('cuts long text with an ellipsis and accepts non-strings', () => {
    expect(sanitize('x'.repeat(50), 10)).toBe('x'.repeat(9) + '…');
    expect(sanitize(42)).toBe('42');
    expect(sanitize(undefined)).toBe('');
  });
});

describe('format', () => {
  it('draws a sparkline scaled to its maximum with gaps as spaces', () => {
    expect(sparkline([0, 50, 100, undefined])).toBe('▁▅█ ');
    expect(sparkline([0, 0])).toBe('▁▁');
  });

  it('buckets samples by time over the span, keeping the largest per bucket', () => {
    const now = 10_000;
    const series = buckets(
      [
        { atMs: 0, value: 5 }, // outside: before the span
        { atMs: 6_000, value: 1 }, // span starts at 6 000: buckets of 1 000 ms
        { atMs: 6_500, value: 3 },
        { atMs: 9_999, value: 7 },
      ],
      now,
      4_000,
      4,
    );
    expect(series).toEqual([3, undefined, undefined, 7]);
  });

  it('formats numbers, bytes and durations compactly', () => {
    expect(compact(999)).toBe('999');
    expect(compact(1234)).toBe('1.2k');
    expect(compact(2_500_000)).toBe('2.5M');
    expect(bytes(512)).toBe('512B');
    expect(bytes(1536)).toBe('1.5K');
    expect(duration(850)).toBe('850ms');
    expect(duration(184_000)).toBe('3m04s');
    expect(duration(2 * 3_600_000 + 5 * 60_000)).toBe('2h05m');
    expect(fit('abcdef', 4)).toBe('abc…');
    expect(fit('ab', 4)).toBe('ab  ');
  });
});
