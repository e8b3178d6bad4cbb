import { describe, expect, it } from 'vitest';
import { backfillTargets, buildLakeGrid, gridHours, type RawHourInfo } from '../../src/tui/model/lake-grid.ts';
import type { JobView } from '../../src/tui/model/types.ts';

const NOW = Date.UTC(2026, 10, 28, 6, 30); // 06:30 UTC
const H = (hh: number, day = 28): string => `2026-11-${day}T${String(hh).padStart(2, '0')}`;
const raw = (hour: string, files = 1): [string, RawHourInfo] => [hour, { hour, files, bytes: 100 * files, records: 10 * files, closed: true }];
const grid = (input: Partial<Parameters<typeof buildLakeGrid>[0]>) =>
  buildLakeGrid({ nowMs: NOW, raw: new Map(), etl: new Map(), jobs: [], graceMs: 5 * 60_000, streaming: false, ...input });

describe('lake grid', () => {
  it('covers the 24 hours ending with the current one, oldest first', () => {
    const hours = gridHours(NOW);
    expect(hours).toHaveLength(24);
    expect(hours[23]).toBe(H(6));
    expect(hours[0]).toBe(H(7, 27));
  });

  it('marks a past hour with raw data and no ETL late only after the grace period', () => {
    // Given raw data at 05h (ended 06:00) and 06h (current)
    const rawHours = new Map([raw(H(5)), raw(H(6))]);
    // When it is 06:04 (within 5 min grace), then 06:30
    const early = buildLakeGrid({ nowMs: Date.UTC(2026, 10, 28, 6, 4), raw: rawHours, etl: new Map(), jobs: [], graceMs: 5 * 60_000, streaming: false });
    const later = grid({ raw: rawHours });
    // Then only the later grid calls 05h late, and the current hour is never late
    expect(early.find((h) => h.hour === H(5))?.late).toBe(false);
    expect(later.find((h) => h.hour === H(5))?.late).toBe(true);
    expect(later.find((h) => h.hour === H(6))?.late).toBe(false);
  });

  it('marks gaps between hours with data missing, and hours since data began while streaming', () => {
    const rawHours = new Map([raw(H(1)), raw(H(3))]);
    const idle = grid({ raw: rawHours });
    expect(idle.filter((h) => h.missing).map((h) => h.hour)).toEqual([H(2)]);
    const streaming = grid({ raw: rawHours, streaming: true });
    expect(streaming.filter((h) => h.missing).map((h) => h.hour)).toEqual([H(2), H(4), H(5)]);
    // Hours before the first data are not missing: the stream had not started
    expect(streaming.find((h) => h.hour === H(0))?.missing).toBe(false);
  });

  it('takes ETL state from the ETL, a running job over it, and the newest job when the ETL has none', () => {
    const rawHours = new Map([raw(H(1)), raw(H(2)), raw(H(3)), raw(H(4))]);
    const etl = new Map([
      [H(1), { state: 'done' as const }],
      [H(2), { state: 'failed' as const, reason: 'bad parquet' }],
    ]);
    const jobs: JobView[] = [
      { id: 'b', kind: 'etl', label: 'etl', state: 'running', runner: 'local', hours: [H(2)], hourResults: { [H(2)]: 'running' } },
      { id: 'a', kind: 'etl', label: 'etl', state: 'failed', runner: 'local', hours: [H(3)], hourResults: { [H(3)]: 'failed' }, reason: 'exit code 1' },
    ];
    const g = grid({ raw: rawHours, etl, jobs });
    const at = (hh: number) => g.find((h) => h.hour === H(hh));
    expect(at(1)?.etl).toBe('done');
    expect(at(2)?.etl).toBe('running');
    expect(at(3)).toMatchObject({ etl: 'failed', etlReason: 'exit code 1' });
    expect(at(4)?.etl).toBe('waiting');
    // Backfill: the failed hour and the late one (not the running one, not the done one)
    expect(backfillTargets(g)).toEqual([H(3), H(4)]);
  });
});
