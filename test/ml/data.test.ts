import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { labelledDocsFromRaw } from '../../src/ml/data.ts';
import { CAPTURE } from '../helpers/fixtures.ts';


describe('labelledDocsFromRaw', () => {
  it('reads the real capture: outdoors and tech events once per id, newest version, cut-off line counted', () => {
    // Given the real capture (raw lines, one cut off)
    const text = readFileSync(CAPTURE, 'utf8');
    // Expected, independently: newest record per id among category 23/34 events
    const newest = new Map<string, { mtime: number; category: number; name: string }>();
    let bad = 0;
    for (const line of text.split('\n').filter((l) => l.trim() !== '')) {
      let r: { id: string; mtime: number; name: string; group?: { category?: { id: number } } };
      try {
        r = JSON.parse(line);
      } catch {
        bad++;
        continue;
      }
      const category = r.group?.category?.id;
      if (category !== 23 && category !== 34) continue;
      const seen = newest.get(r.id);
      if (!seen || seen.mtime <= r.mtime) newest.set(r.id, { mtime: r.mtime, category, name: r.name });
    }
    // When the file is read as labelled docs
    const { docs, stats } = labelledDocsFromRaw(text);
    // Then there is one doc per such id, labelled by category, named by its newest version
    expect(docs.map((d) => d.eventId).sort()).toEqual([...newest.keys()].sort());
    for (const doc of docs) {
      const want = newest.get(doc.eventId)!;
      expect(doc.label).toBe(want.category === 34 ? 1 : 0);
      expect(doc.text.startsWith(want.name.trim())).toBe(true);
      expect(doc.text).not.toMatch(/<\/?p>|&nbsp;/);
    }
    expect(stats.unparsable).toBe(bad);
    expect(bad).toBeGreaterThanOrEqual(1);
  });

  it('skips records of other categories, records without a category and lines that are not events', () => {
    const lines = [
      'HTTP/1.1 200 OK',
      JSON.stringify({ id: '1', name: 'Hike', mtime: 1, description: '<b>trail</b>', group: { id: 5, category: { id: 23 } } }),
      JSON.stringify({ id: '2', name: 'Dance', mtime: 1, group: { id: 6, category: { id: 5 } } }),
      JSON.stringify({ id: '3', name: 'Nothing', mtime: 1, group: { id: 7 } }),
      '[1, 2]',
      JSON.stringify({ id: '4', name: 'Code', mtime: 1, group: { id: 8, state: 'ma', country: 'us', category: { id: 34 } } }),
    ].join('\n');
    const { docs, stats } = labelledDocsFromRaw(lines);
    expect(docs).toEqual([
      { eventId: '1', groupId: 5, label: 0, text: 'Hike\ntrail' },
      { eventId: '4', groupId: 8, label: 1, text: 'Code', region: 'MA' },
    ]);
    expect(stats).toEqual({ lines: 6, unparsable: 2, unlabelled: 2, duplicates: 0 });
  });
});
