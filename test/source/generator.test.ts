import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CATEGORIES, type OpenEvent } from '../../src/source/event.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { gunzipSync } from 'node:zlib';
import { CAPTURE, REST_CORPUS } from '../helpers/fixtures.ts';

const N = 6_000;
const records = [...createGenerator({ seed: 42, count: N })];
const events = records.map((r) => JSON.parse(r.line) as OpenEvent);

function share<T>(values: T[], predicate: (v: T) => boolean): number {
  return values.filter(predicate).length / values.length;
}
function countBy<T>(values: T[], key: (v: T) => string): Map<string, number> {
  const m = new Map<string, number>();
  for (const v of values) m.set(key(v), (m.get(key(v)) ?? 0) + 1);
  return m;
}
function ranked(m: Map<string, number>): string[] {
  return [...m].sort((a, b) => b[1] - a[1]).map(([k]) => k);
}

describe('generator', () => {
  it('is deterministic for a seed and differs between seeds', () => {
    const again = [...createGenerator({ seed: 42, count: 500 })].map((r) => r.line);
    const other = [...createGenerator({ seed: 43, count: 500 })].map((r) => r.line);
    expect(again).toEqual(records.slice(0, 500).map((r) => r.line));
    expect(other.filter((line, i) => line === again[i])).toEqual([]);
  });

  it('writes one valid JSON object per line with the real record shape', () => {
    for (const [i, r] of records.entries()) {
      expect(r.line).not.toContain('\n');
      const e = events[i]!;
      expect(r.event).toEqual(e);
      expect(typeof e.id).toBe('string');
      expect(r.id).toBe(e.id);
      expect(r.mtime).toBe(e.mtime);
      expect(['upcoming', 'suggested', 'proposed', 'canceled', 'deleted']).toContain(e.status);
      expect(['0', '1']).toContain(e.payment_required);
      expect(e.payment_required === '1').toBe(e.fee !== undefined);
      expect(typeof e.group.id).toBe('number');
      expect(e.event_url).toMatch(/^http:\/\/www\.meetup\.com\/[^/]+\/events\/\d+\/$/);
      for (const key of ['name', 'event_url', 'visibility', 'venue_visibility', 'rsvp_limit', 'yes_rsvp_count', 'maybe_rsvp_count']) expect(e).toHaveProperty(key);
    }
  });

  it('looks like the capture: escaped slashes, HTML entities, both "us" and "US", several key orders, optional fields sometimes absent', () => {
    expect(share(records, (r) => r.line.includes('http:\\/\\/'))).toBe(1);
    expect(share(events, (e) => (e.description ?? '').includes('&amp;'))).toBeGreaterThan(0.05);
    expect(share(events, (e) => (e.description ?? '').startsWith('<p>'))).toBeGreaterThan(0.5);
    const venueCountries = new Set(events.flatMap((e) => (e.venue ? [e.venue.country] : [])));
    expect(venueCountries).toContain('us');
    expect(venueCountries).toContain('US');
    expect(new Set(records.map((r) => r.line.slice(0, 20).replace(/:.*/, ''))).size).toBeGreaterThanOrEqual(2);
    expect(share(events, (e) => /^\d+$/.test(e.id))).toBeGreaterThan(0.5);
    expect(share(events, (e) => /^[a-z]+$/.test(e.id))).toBeGreaterThan(0.15);
    for (const [field, low, high] of [['venue', 0.45, 0.8], ['duration', 0.35, 0.7], ['fee', 0.01, 0.1], ['description', 0.9, 0.995], ['time', 0.95, 0.999]] as const) {
      const s = share(events, (e) => e[field] !== undefined);
      expect(s, field).toBeGreaterThan(low);
      expect(s, field).toBeLessThan(high);
    }
    expect(share(events, (e) => e.group.category === undefined)).toBeGreaterThan(0);
  });

  it('has real-size lines: on average within 20 % of the capture\'s ~2.4 KB', () => {
    const avg = records.reduce((a, r) => a + Buffer.byteLength(r.line) + 1, 0) / N;
    expect(avg).toBeGreaterThan(2_480 * 0.8);
    expect(avg).toBeLessThan(2_480 * 1.2);
  });

  it('mixes categories like the reference: socializing first, then outdoors, tech and career among the top five; every category id valid', () => {
    const byCategory = countBy(events.filter((e) => e.group.category), (e) => e.group.category!.shortname);
    const top = ranked(byCategory);
    expect(top[0]).toBe('socializing');
    expect(top.slice(0, 5)).toEqual(expect.arrayContaining(['outdoors-adventure', 'tech', 'career-business']));
    const valid = new Map(CATEGORIES.map((c) => [c.id, c]));
    for (const e of events) if (e.group.category) expect(valid.get(e.group.category.id)).toEqual(e.group.category);
    expect(byCategory.size).toBeGreaterThan(25);
  });

  it('places groups like the reference: us first, then gb and ca; New York and London the top cities', () => {
    const countries = ranked(countBy(events, (e) => e.group.country));
    expect(countries.slice(0, 3)).toEqual(['us', 'gb', 'ca']);
    expect(share(events, (e) => e.group.country === 'us')).toBeGreaterThan(0.5);
    expect(ranked(countBy(events, (e) => e.group.city)).slice(0, 3)).toEqual(expect.arrayContaining(['New York', 'London']));
  });

  it('reuses groups and venues across events', () => {
    const groupEvents = countBy(events, (e) => String(e.group.id));
    expect(groupEvents.size).toBeLessThan(N / 2);
    expect(Math.max(...groupEvents.values())).toBeGreaterThan(20);
    const venues = countBy(events.filter((e) => e.venue), (e) => JSON.stringify(e.venue));
    expect(Math.max(...venues.values())).toBeGreaterThan(5);
    // one group is always the same group object
    const byId = new Map<number, string>();
    for (const e of events) {
      const json = JSON.stringify(e.group);
      expect(byId.get(e.group.id) ?? json).toBe(json);
      byId.set(e.group.id, json);
    }
  });

  it('re-sends events with a newer mtime as they change, never the same (id, mtime) twice', () => {
    const ids = new Set(events.map((e) => e.id));
    expect(ids.size / N).toBeGreaterThan(0.55);
    expect(ids.size / N).toBeLessThan(0.8);
    const pairs = new Set(events.map((e) => `${e.id} ${e.mtime}`));
    expect(pairs.size).toBe(N);
    const versions = new Map<string, OpenEvent[]>();
    for (const e of events) versions.set(e.id, [...(versions.get(e.id) ?? []), e]);
    let changed = 0;
    for (const list of versions.values()) {
      for (let i = 1; i < list.length; i += 1) {
        const [before, after] = [list[i - 1]!, list[i]!];
        expect(after.mtime).toBeGreaterThan(before.mtime);
        expect(after.name).toBe(before.name);
        expect(after.group.id).toBe(before.group.id);
        if (after.status !== before.status || after.yes_rsvp_count !== before.yes_rsvp_count) changed += 1;
      }
    }
    expect(changed).toBeGreaterThan(N * 0.1);
  });

  it('mixes in older records after a simulated reconnect (mtime is not monotonic)', () => {
    let maxSoFar = 0;
    let older = 0;
    for (const r of records) {
      if (r.mtime < maxSoFar - 3_600_000) older += 1;
      maxSoFar = Math.max(maxSoFar, r.mtime);
    }
    expect(older / N).toBeGreaterThan(0.05);
    expect(older / N).toBeLessThan(0.4);
  });

  it('spreads mtimes over a requested window', () => {
    const end = Date.UTC(2026, 5, 1);
    const span = 6 * 3_600_000;
    const history = [...createGenerator({ seed: 9, count: 2_000, startMs: end - span, spanMs: span })];
    const fresh = history.filter((r) => r.mtime >= end - span);
    expect(fresh.length / history.length).toBeGreaterThan(0.7);
    expect(Math.max(...history.map((r) => r.mtime))).toBeLessThanOrEqual(end);
    expect(Math.min(...fresh.map((r) => r.mtime))).toBeLessThan(end - span + 60_000);
  });

  it('writes descriptions whose words depend on the category', () => {
    const text = (e: OpenEvent) => (e.description ?? '').toLowerCase();
    const outdoors = events.filter((e) => e.group.category?.shortname === 'outdoors-adventure').map(text);
    const tech = events.filter((e) => e.group.category?.shortname === 'tech').map(text);
    const rate = (docs: string[], word: RegExp) => docs.filter((d) => word.test(d)).length / docs.length;
    expect(rate(outdoors, /\b(hike|trail)\b/)).toBeGreaterThan(3 * rate(tech, /\b(hike|trail)\b/));
    expect(rate(tech, /\b(data|developers|python|javascript)\b/)).toBeGreaterThan(3 * rate(outdoors, /\b(data|developers|python|javascript)\b/));
    // and shared words keep it from being trivially separable
    expect(rate(outdoors, /\b(rsvp|join|bring|free)\b/)).toBeGreaterThan(0.3);
    expect(rate(tech, /\b(rsvp|join|bring|free)\b/)).toBeGreaterThan(0.3);
  });

  describe('text that transfers to real descriptions', () => {
    const plain = (e: OpenEvent) => `${e.name}\n${(e.description ?? '').replace(/<[^>]*>/g, ' ')}`.toLowerCase();
    const latest = [...new Map(events.map((e) => [e.id, e])).values()];
    const outdoors = latest.filter((e) => e.group.category?.shortname === 'outdoors-adventure');
    const tech = latest.filter((e) => e.group.category?.shortname === 'tech');
    const rate = (docs: OpenEvent[], re: RegExp) => docs.filter((e) => re.test(plain(e))).length / docs.length;

    it('uses social and logistics words about as often in outdoors as in tech events', () => {
      const social = /\b(drinks|dinner|beer|social|party|brunch|bar)\b/;
      expect(rate(outdoors, social)).toBeGreaterThan(0.3);
      expect(rate(tech, social)).toBeGreaterThan(0.3);
      expect(rate(outdoors, social) / rate(tech, social)).toBeGreaterThan(1 / 1.5);
      expect(rate(outdoors, social) / rate(tech, social)).toBeLessThan(1.5);
    });

    it('has events of each category about something else (an outdoors club\'s party, a tech group\'s happy hour)', () => {
      const outdoorsWords = /\b(hik\w*|trail\w*|miles?|camp\w*|kayak\w*|paddl\w*|climb\w*|bik\w*|ski\w*|snow\w*|walk\w*|summit|lake|river|park|mountains?|beach|canoe|tent|boots|carpool)\b/;
      const techWords = /\b(talks?|speakers?|developers?|code|coding|software|data|web|apps?|programming|engineer\w*|javascript|python|cloud|startup|demo|api|hack\w*|slides|agenda|pizza|sponsor)\b/;
      expect(1 - rate(outdoors, outdoorsWords)).toBeGreaterThan(0.04);
      expect(1 - rate(outdoors, outdoorsWords)).toBeLessThan(0.35);
      expect(1 - rate(tech, techWords)).toBeGreaterThan(0.04);
      expect(1 - rate(tech, techWords)).toBeLessThan(0.35);
    });

    it('gives each group a theme: a paddling club\'s events mention paddling more than the category at large', () => {
      const paddling = /\b(kayak\w*|paddl\w*|canoe\w*|rafting|boats?)\b/;
      const byGroup = new Map<number, boolean[]>();
      for (const e of outdoors) byGroup.set(e.group.id, [...(byGroup.get(e.group.id) ?? []), paddling.test(plain(e))]);
      // P(an event mentions paddling | another event of its group does) vs P(an event mentions paddling)
      let pairs = 0;
      let both = 0;
      for (const list of byGroup.values()) {
        list.forEach((a, i) => list.forEach((b, j) => {
          if (i !== j && a) {
            pairs += 1;
            if (b) both += 1;
          }
        }));
      }
      expect(pairs).toBeGreaterThan(50);
      expect(both / pairs).toBeGreaterThan(1.3 * rate(outdoors, paddling));
    });

    it('has groups in German-, French-, Spanish- and Dutch-speaking countries write in their language, groups elsewhere in English', () => {
      const local = /\b(und|wir|mit|nous|avec|vous|nosotros|para|jullie|wij)\b/;
      const labelled = [...outdoors, ...tech];
      const european = labelled.filter((e) => ['de', 'ch', 'fr', 'es', 'mx', 'nl'].includes(e.group.country));
      const english = labelled.filter((e) => ['us', 'gb', 'ca', 'au'].includes(e.group.country));
      expect(european.length).toBeGreaterThan(20);
      expect(rate(european, local)).toBeGreaterThan(0.2);
      expect(rate(english, local)).toBeLessThan(0.02);
    });

    it('has about as many short descriptions (under 200 characters of text) as the real capture', () => {
      const capture = readFileSync(CAPTURE, 'utf8')
        .split('\n')
        .flatMap((line) => {
          try {
            return [JSON.parse(line) as OpenEvent];
          } catch {
            return []; // the cut-off last line
          }
        });
      const short = (list: OpenEvent[]) => {
        const described = list.filter((e) => e.description !== undefined);
        return described.filter((e) => e.description!.replace(/<[^>]*>/g, '').trim().length < 200).length / described.length;
      };
      expect(short(capture)).toBeGreaterThan(0.03);
      expect(Math.abs(short(events) - short(capture))).toBeLessThan(0.06);
    });
  });

  it('never copies real text: no run of 13 words of the real corpus or capture appears in generated output', () => {
    // Word runs as a reader sees them: lower-cased words (letters, digits, apostrophes), markup,
    // entities and punctuation ignored, across sentence boundaries. Each run is kept as a 52-bit
    // hash of its word ids (two independent 26-bit polynomial hashes), so millions fit in a Set.
    const ids = new Map<string, number>();
    const wordIds = (html: string): number[] =>
      (html.replace(/<[^>]*>/g, ' ').replace(/&[a-z]+;|&#\d+;/gi, ' ').toLowerCase().match(/[\p{L}\p{N}']+/gu) ?? []).map((w) => {
        let id = ids.get(w);
        if (id === undefined) ids.set(w, (id = ids.size + 1));
        return id;
      });
    const RUN = 13;
    const M = 1 << 26;
    const hashes = (w: number[], each: (h: number, at: number) => void): void => {
      for (let i = 0; i + RUN <= w.length; i += 1) {
        let a = 0;
        let b = 0;
        for (let k = i; k < i + RUN; k += 1) {
          a = (a * 1_000_003 + w[k]!) % M;
          b = (b * 999_983 + w[k]! * 7) % M;
        }
        each(a * M + b, i);
      }
    };
    const runs = new Set<number>();
    const real = [...gunzipSync(readFileSync(REST_CORPUS)).toString('utf8').split('\n'), ...readFileSync(CAPTURE, 'utf8').split('\n')];
    for (const line of real) {
      let r: { name?: string; description?: string };
      try {
        r = JSON.parse(line) as typeof r;
      } catch {
        continue;
      }
      for (const text of [r.name ?? '', r.description ?? '']) hashes(wordIds(text), (h) => runs.add(h));
    }
    expect(runs.size).toBeGreaterThan(500_000);
    // Every generated name and description of 5,000 records (their sentences come from pools built per seed)
    let checked = 0;
    const copied: string[] = [];
    const words = [...ids.keys()];
    for (const record of createGenerator({ seed: 7, count: 5_000 })) {
      for (const text of [record.event.name, record.event.description ?? '']) {
        const w = wordIds(text);
        hashes(w, (h, at) => {
          checked += 1;
          if (runs.has(h)) copied.push(w.slice(at, at + RUN).map((id) => words[id - 1]).join(' '));
        });
      }
    }
    expect(copied).toEqual([]);
    expect(checked).toBeGreaterThan(200_000);
  }, 600_000);
});
