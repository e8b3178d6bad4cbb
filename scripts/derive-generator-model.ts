/**
 * Dev-time: derives the statistics the event generator needs from a real open_events capture and
 * from the real outdoors/tech corpus, and writes them to src/source/generator-model.json
 * (committed). Only statistics leave the data: field presence rates, value distributions, key
 * orders, per-category word counts of words used by several different groups, and (from the
 * corpus) the outdoors and tech words, name words and two-word phrases that at least
 * REAL_MIN_GROUPS groups use — never a sentence, name or description.
 *
 *   node bin/run-ts.js scripts/derive-generator-model.ts [capture.ndjson] [out.json] [corpus.ndjson.gz]
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import path from 'node:path';
import { parseCapture } from '../src/source/replay.ts';
import type { OpenEvent } from '../src/source/event.ts';

const root = path.resolve(import.meta.dirname, '..');
const input = process.argv[2] ?? path.join(root, 'test/fixtures/meetup/open_events_2015-03-08.ndjson');
const output = process.argv[3] ?? path.join(root, 'src/source/generator-model.json');
const corpusFile = process.argv[4] ?? path.join(root, 'test/fixtures/meetup-rest-2015/outdoors-tech-events.ndjson.gz');

const lines = parseCapture(readFileSync(input)).filter((r) => r.id !== undefined);
const records = lines.map((r) => JSON.parse(r.bytes.toString('utf8')) as OpenEvent);
const n = records.length;

const rate = (count: number): number => round(count / n, 4);
function round(x: number, digits = 4): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}
/** [value, count] pairs, most frequent first. */
function counts<T>(values: T[]): Array<[T, number]> {
  const m = new Map<T, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1]);
}
/** Levels of every quantile list in the model (the generator interpolates between them). */
const QUANTILE_LEVELS = [0, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 1];
function quantiles(values: number[], qs = QUANTILE_LEVELS): number[] {
  const sorted = [...values].sort((a, b) => a - b);
  return qs.map((q) => sorted[Math.min(sorted.length - 1, Math.floor(q * (sorted.length - 1)))] ?? 0);
}
/** Key-order templates: records grouped by their first keys, keys sorted by mean relative position. */
function keyOrders(objects: object[], prefix: number): Array<{ weight: number; keys: string[] }> {
  const classes = new Map<string, object[]>();
  for (const o of objects) {
    const k = Object.keys(o).slice(0, prefix).join(',');
    classes.set(k, [...(classes.get(k) ?? []), o]);
  }
  return [...classes.values()]
    .sort((a, b) => b.length - a.length)
    .map((members) => {
      const pos = new Map<string, number[]>();
      for (const o of members) {
        const keys = Object.keys(o);
        keys.forEach((key, i) => pos.set(key, [...(pos.get(key) ?? []), i / Math.max(1, keys.length - 1)]));
      }
      const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
      const keys = [...pos].sort((a, b) => mean(a[1]) - mean(b[1])).map(([key]) => key);
      return { weight: members.length, keys };
    });
}

const STOP = new Set(
  `the and for you are with this that will our your from have all can not but be at we to of in on it is as or an by if so do up me my us no any its was were has had been more also out about just into than then them they their there what when where which who how one two get got very some each other such only may would could should here http https www com html org href class span div nbsp amp quot meetup please masked`.split(' '),
);
function words(html: string): string[] {
  const text = html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&[a-z]+;|&#\d+;/g, ' ')
    .replace(/https?:\/\/\S+/g, ' ')
    .toLowerCase();
  return (text.match(/[a-z]{3,15}/g) ?? []).filter((w) => !STOP.has(w));
}

// Per category word statistics: the latest version of each event, words used by ≥ 2 groups.
const latest = new Map<string, OpenEvent>();
for (const r of records) if ((latest.get(r.id)?.mtime ?? -Infinity) < r.mtime) latest.set(r.id, r);
const byCategory = new Map<string, { words: Map<string, { n: number; groups: Set<number> }>; names: Map<string, { n: number; groups: Set<number> }> }>();
for (const r of latest.values()) {
  const cat = r.group.category?.shortname ?? '';
  if (!cat) continue;
  const entry = byCategory.get(cat) ?? { words: new Map(), names: new Map() };
  byCategory.set(cat, entry);
  for (const [target, ws] of [
    [entry.words, words(r.description ?? '')],
    [entry.names, words(r.name)],
  ] as const) {
    for (const w of ws) {
      const s = target.get(w) ?? { n: 0, groups: new Set<number>() };
      s.n += 1;
      s.groups.add(r.group.id);
      target.set(w, s);
    }
  }
}
const top = (m: Map<string, { n: number; groups: Set<number> }>, k: number): Array<[string, number]> =>
  [...m].filter(([, s]) => s.groups.size >= 3).sort((a, b) => b[1].n - a[1].n).slice(0, k).map(([w, s]) => [w, s.n]);
const categoryWords = Object.fromEntries([...byCategory].sort().map(([cat, e]) => [cat, top(e.words, 60)]));
const categoryNameWords = Object.fromEntries([...byCategory].sort().map(([cat, e]) => [cat, top(e.names, 20)]));
// Generic words: used in many categories.
const spread = new Map<string, { cats: number; n: number }>();
for (const e of byCategory.values()) for (const [w, s] of e.words) {
  const x = spread.get(w) ?? { cats: 0, n: 0 };
  x.cats += 1;
  x.n += s.n;
  spread.set(w, x);
}
const genericWords = [...spread].filter(([, s]) => s.cats >= 8).sort((a, b) => b[1].n - a[1].n).slice(0, 80).map(([w, s]) => [w, s.n]);

const descriptions = records.map((r) => r.description).filter((d): d is string => typeof d === 'string');
const venues = records.flatMap((r) => (r.venue ? [r.venue] : []));
const groups = records.map((r) => r.group);
const fees = records.flatMap((r) => (r.fee ? [r.fee] : []));
const mtimes = records.map((r) => r.mtime);
const maxMtime = Math.max(...mtimes);

const model = {
  derivedFrom: { file: path.basename(input), records: n, distinctIds: latest.size, avgLineBytes: Math.round(lines.reduce((a, r) => a + r.bytes.length + 1, 0) / n) },
  quantileLevels: QUANTILE_LEVELS,
  presence: Object.fromEntries(['time', 'utc_offset', 'duration', 'description', 'venue', 'fee'].map((k) => [k, rate(records.filter((r) => k in r).length)])),
  groupPresence: Object.fromEntries(['state', 'category', 'group_photo'].map((k) => [k, rate(groups.filter((g) => k in g).length)])),
  venuePresence: Object.fromEntries(['lat', 'state', 'zip', 'phone', 'address_2'].map((k) => [k, round(venues.filter((v) => k in v).length / venues.length)])),
  venueCountryUpper: round(venues.filter((v) => v.country === v.country.toUpperCase()).length / venues.length),
  groupLatInt: rate(groups.filter((g) => Number.isInteger(g.group_lat)).length),
  numericIdShare: rate(records.filter((r) => /^\d+$/.test(r.id)).length),
  resendShare: round(1 - latest.size / n),
  oldMtimeShare: rate(mtimes.filter((m) => maxMtime - m > 3_600_000).length),
  oldMtimeAgeDays: quantiles(mtimes.filter((m) => maxMtime - m > 3_600_000).map((m) => (maxMtime - m) / 86_400_000)).map((x) => round(x, 2)),
  status: counts(records.map((r) => r.status)),
  venueVisibility: counts(records.map((r) => r.venue_visibility)),
  joinMode: counts(groups.map((g) => g.join_mode)),
  rsvpLimit: counts(records.map((r) => r.rsvp_limit)).slice(0, 20),
  yesRsvp: quantiles(records.map((r) => r.yes_rsvp_count)),
  maybeRsvpNonZero: rate(records.filter((r) => r.maybe_rsvp_count > 0).length),
  duration: counts(records.flatMap((r) => (r.duration === undefined ? [] : [r.duration]))).slice(0, 12),
  leadDays: quantiles(records.flatMap((r) => (r.time === undefined ? [] : [(r.time - r.mtime) / 86_400_000]))).map((x) => round(x, 2)),
  fee: { amount: quantiles(fees.map((f) => f.amount)), currency: counts(fees.map((f) => f.currency)), description: counts(fees.map((f) => f.description)).slice(0, 5) },
  keyOrders: {
    event: keyOrders(records, 3),
    group: keyOrders(groups, 2),
    venue: keyOrders(venues, 2),
    fee: keyOrders(fees, 1),
    category: keyOrders(groups.flatMap((g) => (g.category ? [g.category] : [])), 1),
    groupPhoto: keyOrders(groups.flatMap((g) => (g.group_photo ? [g.group_photo] : [])), 1),
  },
  description: {
    chars: quantiles(descriptions.map((d) => d.length)),
    words: quantiles(descriptions.map((d) => words(d).length)),
    paragraphs: quantiles(descriptions.map((d) => (d.match(/<p>/g) ?? []).length)),
    features: Object.fromEntries(
      Object.entries({ br: /<br>/, bold: /<b>/, link: /<a /, image: /<img /, amp: /&amp;/, quot: /&quot;/, apos: /&#39;|'/, list: /<li>/ }).map(([k, re]) => [
        k,
        round(descriptions.filter((d) => re.test(d)).length / descriptions.length),
      ]),
    ),
  },
  categoryShare: counts(records.map((r) => r.group.category?.shortname ?? '')),
  groupCountry: counts(groups.map((g) => g.country)),
  categoryWords,
  categoryNameWords,
  genericWords,
  realText: realText(corpusFile),
};

/**
 * Word statistics of the real outdoors/tech corpus, per class: words of descriptions and names, and
 * phrases (two consecutive content words), each kept only when at least REAL_MIN_GROUPS different
 * groups of the class use it, counted by the groups that do (so no group's own wording — its
 * name, places, signature — and no prolific group dominates); and the shared words, common in
 * both classes, for the text around the topic. Words of the corpus's own city names (its groups'
 * and venues' cities) are left out: generated groups live in other cities.
 */
function realText(file: string) {
  const REAL_MIN_GROUPS = 5;
  const text = gunzipSync(readFileSync(file)).toString('utf8');
  const latestReal = new Map<string, OpenEvent>();
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    const r = JSON.parse(line) as OpenEvent;
    if ((latestReal.get(r.id)?.mtime ?? -Infinity) < r.mtime) latestReal.set(r.id, r);
  }
  const places = new Set<string>();
  for (const r of latestReal.values()) for (const city of [r.group.city, r.venue?.city]) for (const w of words(city ?? '')) places.add(w);
  const keep = (term: string): boolean => term.split(' ').every((w) => !places.has(w));
  type Stat = Map<string, Set<number>>;
  const classes = new Map<string, { words: Stat; names: Stat; phrases: Stat; groups: Set<number> }>();
  const add = (m: Stat, key: string, group: number): void => {
    const set = m.get(key) ?? new Set<number>();
    set.add(group);
    m.set(key, set);
  };
  for (const r of latestReal.values()) {
    const cat = r.group.category?.shortname;
    if (cat !== 'outdoors-adventure' && cat !== 'tech') continue;
    const c = classes.get(cat) ?? { words: new Map(), names: new Map(), phrases: new Map(), groups: new Set<number>() };
    classes.set(cat, c);
    c.groups.add(r.group.id);
    const body = words(r.description ?? '');
    for (const w of new Set(body)) add(c.words, w, r.group.id);
    for (const w of new Set(words(r.name))) add(c.names, w, r.group.id);
    // Phrases: consecutive words of the plain text with no stop word, digit or punctuation between.
    const plain = (r.description ?? '').replace(/<[^>]*>/g, ' ').replace(/&[a-z]+;|&#\d+;/g, ' ').replace(/https?:\/\/\S+/g, ' ').toLowerCase();
    for (const run of plain.split(/[^a-z ]+/)) {
      const ws = run.split(' ').filter((w) => w !== '');
      for (let i = 0; i + 1 < ws.length; i += 1) {
        const [a, b] = [ws[i]!, ws[i + 1]!];
        if (a.length >= 3 && b.length >= 3 && a.length <= 15 && b.length <= 15 && !STOP.has(a) && !STOP.has(b)) add(c.phrases, `${a} ${b}`, r.group.id);
      }
    }
  }
  const ranked = (m: Stat, k: number, min = REAL_MIN_GROUPS): Array<[string, number]> =>
    [...m]
      .filter(([term, groups]) => groups.size >= min && keep(term))
      .map(([w, groups]) => [w, groups.size] as [string, number])
      .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
      .slice(0, k);
  const out = Object.fromEntries(
    [...classes].sort().map(([cat, c]) => [cat, { groups: c.groups.size, words: ranked(c.words, 600), nameWords: ranked(c.names, 150), phrases: ranked(c.phrases, 200) }]),
  );
  // Shared: used by at least 5 % of the groups of each class; their weight is the smaller share.
  const [a, b] = [classes.get('outdoors-adventure')!, classes.get('tech')!];
  const shared = [...a.words]
    .flatMap(([w, ga]) => {
      const gb = b.words.get(w);
      const share = Math.min(ga.size / a.groups.size, (gb?.size ?? 0) / b.groups.size);
      return share >= 0.05 && keep(w) ? [[w, Math.round(share * 1000) / 1000] as [string, number]] : [];
    })
    .sort((x, y) => y[1] - x[1] || (x[0] < y[0] ? -1 : 1))
    .slice(0, 250);
  return { file: path.basename(file), events: latestReal.size, minGroups: REAL_MIN_GROUPS, classes: out, shared };
}

writeFileSync(output, JSON.stringify(model, null, 1) + '\n');
process.stdout.write(`wrote ${output} from ${n} records (${latest.size} distinct ids)\n`);
