import { CATEGORIES, type OpenEvent } from './event.ts';
import type { Feed } from './feed.ts';
import model from './generator-model.json' with { type: 'json' };
import { hash3, hash32, Rng, Weighted } from './random.ts';
import {
  CATEGORY_THEMES,
  CATEGORY_VOCABULARY,
  CITIES,
  FUNCTION_WORDS,
  GENERIC_WORDS,
  GROUP_NAME_PATTERNS,
  GROUP_TOPICS,
  LOCAL_LANGUAGE,
  LOCAL_WORDS,
  NAME_PREFIXES,
  NAME_SUFFIXES,
  OFF_TOPIC,
  PLACE_KINDS,
  PLACE_NAMES,
  STREETS,
  VAGUE_NAMES,
  VENUE_NAMES,
  VENUE_PREFIXES,
  type City,
} from './vocabulary.ts';

export interface GeneratorOptions {
  /** Everything generated is a function of the seed (default 1). */
  seed?: number;
  /** Stop after this many records (default: never). */
  count?: number;
  /** mtime of the first record, ms (default 2026-01-01T00:00:00Z, so output is reproducible). */
  startMs?: number;
  /** Spread the `count` records' mtimes over this many ms (needs count); overrides stepMs. */
  spanMs?: number;
  /** ms between consecutive records' mtimes (default 100). */
  stepMs?: number;
}

/** One generated record: the line as served and, parsed on demand, the event. */
export interface GeneratedRecord {
  /** The record's JSON, one line, as a stream would send it. */
  readonly line: string;
  readonly id: string;
  readonly mtime: number;
  /** The parsed record (parsed from `line` on first access). */
  readonly event: OpenEvent;
}

/** A finite or endless sequence of generated records. */
export interface EventGenerator extends Iterable<GeneratedRecord> {
  /** Records generated so far. */
  readonly generated: number;
}

/**
 * Generates realistic open_events records: the real record shape (varying key order, string ids,
 * "US"/"us", "0"/"1", optional fields present at the capture's rates, HTML descriptions with
 * entities and escaped slashes), a category mix like the original system's reference figures,
 * a pool of groups and venues reused across events, events re-sent with a newer mtime as their
 * status and RSVP counts change, bursts of older records as after a reconnect, and descriptions
 * whose words depend on the category (and, within outdoors and tech, on the group's theme), with
 * off-topic and vague events in every category and short descriptions as often as in the capture,
 * so a classifier trained on them transfers to real posts (test/ml/transfer.test.ts). Deterministic for a seed; event ids are unique within a
 * seed (two different seeds may rarely share a numeric id, so use one seed per lake).
 *
 * @example for (const { line } of createGenerator({ seed: 7, count: 1000 })) out.write(line + '\n');
 */
export function createGenerator(options: GeneratorOptions = {}): EventGenerator {
  const gen = new Generator(options);
  return {
    get generated() {
      return gen.size();
    },
    *[Symbol.iterator]() {
      for (let k = gen.size(); gen.produce(); k += 1) yield new Generated(gen.line(k), gen.id(k), gen.mtime(k));
    },
  };
}

/** The generator as a server feed (records addressable by timeline position). */
export function generatorFeed(options: GeneratorOptions = {}): Feed {
  return new Generator(options);
}

class Generated implements GeneratedRecord {
  private parsed: OpenEvent | undefined;
  constructor(
    readonly line: string,
    readonly id: string,
    readonly mtime: number,
  ) {}
  get event(): OpenEvent {
    return (this.parsed ??= JSON.parse(this.line) as OpenEvent);
  }
}

/** A string as a JSON string literal, with slashes escaped as Meetup's serializer did. */
function json(s: string): string {
  return JSON.stringify(s).replace(/\//g, '\\/');
}

/**
 * A flat copy of a string built by concatenation. V8 keeps `a + b` as a rope and copies a rope's
 * pieces each time it is flattened (written out); fragments reused in many lines are flattened
 * once here, which makes serializing a line several times cheaper.
 */
function flat(s: string): string {
  return JSON.parse(JSON.stringify(s)) as string;
}

/** Text for inside a JSON string literal (no quotes), slashes escaped. */
function jsonText(s: string): string {
  return json(s).slice(1, -1);
}

/** Samples a distribution given by its quantiles at model.quantileLevels (piecewise linear). */
function fromQuantiles(qs: readonly number[], u: number): number {
  const levels = model.quantileLevels;
  for (let i = 1; i < levels.length; i += 1) {
    if (u <= levels[i]! || i === levels.length - 1) {
      const a = levels[i - 1]!;
      const b = levels[i]!;
      const t = b > a ? Math.min(1, (u - a) / (b - a)) : 0;
      return qs[i - 1]! + t * (qs[i]! - qs[i - 1]!);
    }
  }
  return qs.at(-1)!;
}

/** Word statistics of real outdoors and tech events (generator-model.json `realText`, from the real corpus). */
type RealText = { words: Array<[string, number]>; nameWords: Array<[string, number]>; phrases: Array<[string, number]> };
const REAL_TEXT = model.realText.classes as unknown as Record<string, RealText>;
/** Words shared by both classes in real text, with the smaller of their two group shares. */
const REAL_SHARED = model.realText.shared as Array<[string, number]>;

/**
 * Words of one theme of a themed category. From real text (when the category has statistics):
 * its words (35 %) and two-word phrases (10 %), each weighted by how many real groups use it;
 * then the category's curated core words (15 %, a little more without real statistics), the
 * theme's own (35 %, more without) and its places (5 %, outdoors only) — the curated lists
 * weighted by rank (earlier entries are more common, Zipf-like) — so a few words carry a theme,
 * a long tail follows, and the words around them are those real posts of the category use.
 */
function themeVocabulary(core: readonly string[], own: readonly string[], places: readonly string[], real?: RealText): Weighted<string> {
  const weights = new Map<string, number>();
  const add = (w: string, x: number): void => void weights.set(w, (weights.get(w) ?? 0) + x);
  const placeShare = places.length > 0 ? 0.05 : 0;
  for (const place of places) add(place, placeShare / places.length);
  const realShare = real ? { words: 0.35, phrases: 0.1 } : { words: 0, phrases: 0 };
  for (const [list, share] of [[real?.words ?? [], realShare.words], [real?.phrases ?? [], realShare.phrases]] as const) {
    const total = list.reduce((a, [, n]) => a + n, 0);
    for (const [w, n] of list) add(w, (share * n) / total);
  }
  const curated = 1 - placeShare - realShare.words - realShare.phrases;
  for (const [list, share] of [[core, curated * 0.3], [own, curated * 0.7]] as const) {
    const ranks = list.map((_, i) => 1 / (i + 4) ** 0.6);
    const total = ranks.reduce((a, b) => a + b, 0);
    list.forEach((w, i) => add(w, (share * ranks[i]!) / total));
  }
  return new Weighted([...weights]);
}

/** "machine learning" → "Machine Learning" (the lists are lower case; the tokenizer lowers it again). */
function titleCase(words: string): string {
  return words.replace(/(^|\s)([a-z])/g, (_, space: string, c: string) => space + c.toUpperCase());
}

function weightedPairs<T>(pairs: ReadonlyArray<readonly [T, number]>): Weighted<T> {
  return new Weighted(pairs);
}

/** Renders an object's pre-serialized values in a key order; keys the order lacks go last. */
function renderObject(order: readonly string[], values: Record<string, string | undefined>): string {
  let out = '{';
  let first = true;
  for (const key of order) {
    const v = values[key];
    if (v === undefined) continue;
    out += (first ? '"' : ',"') + key + '":' + v;
    first = false;
  }
  return out + '}';
}

function orders(templates: ReadonlyArray<{ weight: number; keys: string[] }>, allKeys: readonly string[]): Weighted<string[]> {
  return weightedPairs(templates.map((t) => [[...t.keys, ...allKeys.filter((k) => !t.keys.includes(k))], t.weight] as const));
}

const EVENT_KEYS = ['rsvp_limit', 'status', 'visibility', 'maybe_rsvp_count', 'payment_required', 'mtime', 'venue', 'id', 'fee', 'utc_offset', 'duration', 'time', 'venue_visibility', 'yes_rsvp_count', 'event_url', 'description', 'name', 'group'] as const;
/** Event keys by number, for rendering without a per-record object. */
const K = Object.fromEntries(EVENT_KEYS.map((k, i) => [k, i])) as { [key in (typeof EVENT_KEYS)[number]]: number };
const FIRST_KEY = EVENT_KEYS.map((k) => `"${k}":`);
const NEXT_KEY = EVENT_KEYS.map((k) => `,"${k}":`);
const GROUP_KEYS = ['id', 'category', 'group_photo', 'group_lat', 'name', 'state', 'group_lon', 'join_mode', 'urlname', 'country', 'city'];
const VENUE_KEYS = ['zip', 'country', 'city', 'phone', 'address_1', 'address_2', 'name', 'lon', 'state', 'lat'];
const STATUSES = ['upcoming', 'suggested', 'proposed', 'canceled', 'deleted'] as const;
const STATUS_JSON = STATUSES.map((s) => json(s));
const UPCOMING = 0;
const SUGGESTED = 1;
const PROPOSED = 2;
const CANCELED = 3;
const DELETED = 4;

/**
 * Category weights: the original system's top four (socializing 59,824, outdoors/adventure
 * 45,241, tech 44,280, career/business 41,671 events), the rest in the capture's proportions,
 * scaled so that none overtakes the fourth.
 */
function categoryWeights(): Map<string, number> {
  const reference: Record<string, number> = { socializing: 59_824, 'outdoors-adventure': 45_241, tech: 44_280, 'career-business': 41_671 };
  const captured = new Map(model.categoryShare.map(([c, n]) => [String(c), Number(n)]));
  const maxOther = Math.max(...CATEGORIES.filter((c) => !(c.shortname in reference)).map((c) => captured.get(c.shortname) ?? 0));
  const scale = 36_000 / Math.max(1, maxOther);
  return new Map(CATEGORIES.map((c) => [c.shortname, reference[c.shortname] ?? Math.max(3, captured.get(c.shortname) ?? 0) * scale]));
}

interface GroupInfo {
  fragment: string;
  urlname: string;
  city: City;
  /** The city's utc_offset, serialized. */
  utcOffset: string;
  venues: number[];
  /** The group's theme within its category (index into CategoryInfo.themes). */
  theme: number;
  /** The language the group writes most of its posts in, when not English (LOCAL_WORDS). */
  language?: string;
}

/** What events on one theme draw from: event names and HTML paragraphs (JSON-escaped). */
interface ThemePool {
  names: string[];
  paragraphs: string[];
  /** One-sentence paragraphs, for the short descriptions real events often have. */
  short: string[];
}

interface CategoryInfo {
  groups: GroupInfo[];
  groupPick: Weighted<number>;
  /** One pool per theme (a single one for categories without themes). */
  themes: ThemePool[];
  /** Pools in other languages (LOCAL_WORDS), for groups that write in them. */
  local: Map<string, ThemePool>;
  /** Share of the category's events about another category's topic. */
  offTopicShare: number;
  /** Share of the category's events with a vague name and only generic words. */
  vagueShare: number;
  /** Which category an off-topic event is about (index into categories). */
  offTopicPick: Weighted<number>;
}

/** Descriptions shorter than this (characters before markup) are one sentence. */
const SHORT_DESCRIPTION = 200;

/** Each sentence as a paragraph of its own. */
function shortParagraphs(sentences: readonly string[]): string[] {
  return sentences.map((text) => flat(`<p>${text}<\\/p>`));
}

/** Share of groups in LOCAL_LANGUAGE countries that write in the local language. */
const LOCAL_GROUP_SHARE = 0.6;

/** Events of a group on its own theme (the rest: other themes of its category). */
const OWN_THEME_SHARE = 0.7;

/** Sentences per category pool; descriptions are drawn from these (cheap per event). */
const SENTENCES_PER_CATEGORY = 400;
/** Paragraphs per pool; a description is a handful of these, so it costs a few string joins. */
const PARAGRAPHS_PER_POOL = 600;
const GROUPS = 6_000;

/**
 * The generator: a world (groups, venues, vocabularies) built once from the seed, then a
 * sequence of rows (which event, its state at that version). A row is rendered to its line on
 * demand from the seed, so any earlier record can be re-served without storing its text.
 */
class Generator implements Feed {
  private readonly seed: number;
  private readonly count: number;
  private readonly startMs: number;
  private readonly stepMs: number;
  private readonly rng: Rng;
  private readonly categories: CategoryInfo[];
  private readonly categoryPick: Weighted<number>;
  private readonly genericParagraphs: string[];
  private readonly genericShort: string[];
  /** Events about nothing in particular: vague names, generic words. */
  private readonly vague: ThemePool;
  private readonly venues: string[] = [];
  private readonly venuesByCity = new Map<City, number[]>();
  private readonly eventOrder = weightedPairs(
    model.keyOrders.event.map((t) => [[...t.keys, ...EVENT_KEYS.filter((k) => !t.keys.includes(k))].map((k) => (EVENT_KEYS as readonly string[]).indexOf(k)), t.weight] as const),
  );
  private readonly scratch: Array<string | undefined> = EVENT_KEYS.map(() => undefined);
  private readonly venueOrder = orders(model.keyOrders.venue, VENUE_KEYS);
  private readonly feeOrder = orders(model.keyOrders.fee, ['amount', 'description', 'currency']);
  private readonly rsvpLimit = weightedPairs(model.rsvpLimit as Array<[number, number]>);
  private readonly duration = weightedPairs((model.duration as Array<[number, number]>).map(([ms, n]) => [String(ms), n] as const));
  private readonly venueVisibility = weightedPairs((model.venueVisibility as Array<[string, number]>).map(([v, n]) => [json(v), n] as const));
  private readonly feeDescription = weightedPairs((model.fee.description as Array<[string, number]>).map(([v, n]) => [json(v), n] as const));
  private readonly idOffset: number;
  // Rows: one per record on the timeline.
  private rows = 0;
  private rowEvent = new Uint32Array(1024);
  private rowMtime = new Float64Array(1024);
  private rowStatus = new Uint8Array(1024);
  private rowYes = new Uint16Array(1024);
  private rowMaybe = new Uint16Array(1024);
  // Events: their creation time and current state.
  private events = 0;
  private eventCreated = new Float64Array(1024);
  private eventStatus = new Uint8Array(1024);
  private eventYes = new Uint16Array(1024);
  private eventMaybe = new Uint16Array(1024);
  private eventMtime = new Float64Array(1024);
  // Recently created events that may be re-sent.
  private readonly active = new Uint32Array(4096);
  private activeCount = 0;
  private burstLeft = 0;
  // Events first seen with an old mtime, each due for a fresh change at a later row (FIFO, due rows ascending).
  private readonly refreshEvent: number[] = [];
  private readonly refreshDue: number[] = [];
  private refreshHead = 0;
  private readonly burstStart: number;
  private readonly resend: number;

  constructor(options: GeneratorOptions) {
    this.seed = options.seed ?? 1;
    this.count = options.count ?? Number.POSITIVE_INFINITY;
    this.startMs = options.startMs ?? Date.UTC(2026, 0, 1);
    this.stepMs = options.spanMs !== undefined && Number.isFinite(this.count) && this.count > 0 ? options.spanMs / this.count : (options.stepMs ?? 100);
    this.rng = new Rng(hash32(this.seed, 0x5e9));
    this.idOffset = hash32(this.seed, 1) % 20_000_000;
    const meanBurst = 35;
    // Half the capture's share of old records (each gets a fresh follow-up, which counts towards
    // the capture's share of re-sent ids); the rest of the re-sends pick recent events.
    const oldShare = Math.min(0.15, model.oldMtimeShare / 2);
    this.burstStart = oldShare / (meanBurst * (1 - oldShare));
    this.resend = Math.max(0, model.resendShare - oldShare) / (1 - 2 * oldShare);

    const world = new Rng(hash32(this.seed, 0x3031d));
    const cityPick = weightedPairs(CITIES.map((c) => [c, c.weight] as const));
    for (const city of CITIES) {
      const n = Math.max(12, Math.round(40 * city.weight));
      const list: number[] = [];
      for (let i = 0; i < n; i += 1) list.push(this.makeVenue(world, city));
      this.venuesByCity.set(city, list);
    }
    const weights = categoryWeights();
    const total = [...weights.values()].reduce((a, b) => a + b, 0);
    const genericVocabulary = this.genericVocabulary();
    const genericSentences = Array.from({ length: SENTENCES_PER_CATEGORY }, () => this.sentence(world, genericVocabulary, genericVocabulary, 0));
    this.genericParagraphs = this.paragraphs(world, genericSentences, genericSentences, 1);
    this.genericShort = shortParagraphs(genericSentences);
    this.vague = {
      names: Array.from({ length: 200 }, () => flat(json(`${world.pick(NAME_PREFIXES)}${world.pick(VAGUE_NAMES)}${world.pick(NAME_SUFFIXES)}`))),
      paragraphs: this.genericParagraphs,
      short: this.genericShort,
    };
    const groupIds = new Set<number>();
    const groupNames = new Set<string>();
    const groupOrder = orders(model.keyOrders.group, GROUP_KEYS);
    const categoryOrder = orders(model.keyOrders.category, ['id', 'name', 'shortname']);
    const photoOrder = orders(model.keyOrders.groupPhoto, ['photo_link', 'highres_link', 'thumb_link', 'photo_id']);
    const categoryIndex = new Map(CATEGORIES.map((c, i) => [c.shortname, i]));
    this.categories = CATEGORIES.map((category) => {
      const themed = CATEGORY_THEMES[category.shortname];
      const themeCount = themed?.themes.length ?? 1;
      const share = weights.get(category.shortname)! / total;
      const nGroups = Math.max(10, Math.round(GROUPS * share));
      const topics = GROUP_TOPICS[category.shortname] ?? [category.name];
      const categoryJson = renderObject(categoryOrder.draw(world.next()), { id: String(category.id), name: json(category.name), shortname: json(category.shortname) });
      const groups: GroupInfo[] = [];
      for (let i = 0; i < nGroups; i += 1) {
        const city = cityPick.draw(world.next());
        let id: number;
        do id = world.int(100_000, 25_000_000);
        while (groupIds.has(id));
        groupIds.add(id);
        let name = world.pick(GROUP_NAME_PATTERNS).replace('{c}', city.city).replace('{t}', world.pick(topics));
        // Group names and urlnames are unique, as on Meetup: a second "Chicago Hiking Meetup" gets a number.
        for (let n = 2; groupNames.has(name.toLowerCase()); n += 1) name = `${name.replace(/ \d+$/, '')} ${n}`;
        groupNames.add(name.toLowerCase());
        const urlname = name.replace(/[^A-Za-z0-9]+/g, '-').replace(/^-|-$/g, '');
        const integral = world.chance(model.groupLatInt);
        const lat = integral ? Math.round(city.lat) : Math.round((city.lat + (world.next() - 0.5) * 0.3) * 100) / 100;
        const lon = integral ? Math.round(city.lon) : Math.round((city.lon + (world.next() - 0.5) * 0.3) * 100) / 100;
        const photoId = world.int(100_000_000, 459_999_999);
        const photoPath = `http://photos${world.int(1, 4)}.meetupstatic.com/photos/event/${[0, 1, 2, 3].map(() => world.pick('0123456789abcdef'.split(''))).join('/')}/`;
        const photo = world.chance(model.groupPresence.group_photo)
          ? renderObject(photoOrder.draw(world.next()), {
              photo_link: json(`${photoPath}600_${photoId}.jpeg`),
              highres_link: json(`${photoPath}highres_${photoId}.jpeg`),
              thumb_link: json(`${photoPath}thumb_${photoId}.jpeg`),
              photo_id: String(photoId),
            })
          : undefined;
        const fragment = renderObject(groupOrder.draw(world.next()), {
          id: String(id),
          name: json(name),
          urlname: json(urlname),
          join_mode: json(world.chance(model.joinMode[0]![1] as number / model.derivedFrom.records) ? 'open' : 'approval'),
          city: json(city.city),
          country: json(city.country),
          group_lat: String(lat),
          group_lon: String(lon),
          state: city.state !== undefined && world.chance(0.97) ? json(city.state) : undefined,
          category: world.chance(model.groupPresence.category) ? categoryJson : undefined,
          group_photo: photo,
        });
        const cityVenues = this.venuesByCity.get(city)!;
        const venues = Array.from({ length: world.int(1, 3) }, () => world.pick(cityVenues));
        const theme = world.int(0, themeCount - 1);
        // From a hash, not the world's stream, so the rest of the world stays as it was.
        const language = hash3(this.seed, id, 0x1a6) / 4294967296 < LOCAL_GROUP_SHARE ? LOCAL_LANGUAGE[city.country] : undefined;
        groups.push({ fragment: flat(fragment), urlname, city, utcOffset: String(city.utcOffsetH * 3_600_000), venues, theme, language });
      }
      // A few groups host most events (Zipf-like), as on Meetup.
      const groupPick = weightedPairs(groups.map((_, i) => [i, 1 / (i + 1) ** 0.6] as const));
      const themes: ThemePool[] = [];
      for (let t = 0; t < themeCount; t += 1) {
        // A theme's places: a few dozen per theme, named in its descriptions and event names.
        const places = themed?.places ? Array.from({ length: 40 }, () => `${world.pick(PLACE_NAMES)} ${world.pick(PLACE_KINDS)}`) : [];
        const vocabulary = themed ? themeVocabulary(themed.core.words, themed.themes[t]!.words, places, REAL_TEXT[category.shortname]) : this.categoryVocabulary(category.shortname);
        const nameList = themed ? [...themed.themes[t]!.names, ...themed.themes[t]!.names, ...themed.core.names] : (CATEGORY_VOCABULARY[category.shortname]?.names ?? ['Meetup']);
        const templates = themed?.templates ?? ['{name}'];
        const subjects = themed?.themes[t]!.words ?? [];
        const names = Array.from({ length: 200 }, () => {
          const base = world.pick(templates).replace(/\{(name|w|place)\}/g, (_, slot: string) =>
            slot === 'name' ? world.pick(nameList) : slot === 'w' ? titleCase(world.pick(subjects)) : world.pick(places),
          );
          return flat(json(this.eventName(world, category.shortname, base)));
        });
        const sentences = Array.from({ length: SENTENCES_PER_CATEGORY }, () => this.sentence(world, vocabulary, genericVocabulary, 0.45));
        themes.push({ names, paragraphs: this.paragraphs(world, sentences, genericSentences, 0.75), short: shortParagraphs(sentences) });
      }
      const off = OFF_TOPIC[category.shortname];
      const offTopicPick = off
        ? weightedPairs(Object.entries(off.topics).map(([c, w]) => [categoryIndex.get(c)!, w] as const))
        : weightedPairs(CATEGORIES.map((c, i) => [i, weights.get(c.shortname)!] as const));
      const local = new Map<string, ThemePool>();
      if (themed) {
        for (const [language, words] of Object.entries(LOCAL_WORDS)) {
          const topicWords = words.topics[category.shortname];
          if (topicWords === undefined) continue;
          // Local topic words with the category's (English) core: loanwords and product names stay English.
          const vocabulary = themeVocabulary(themed.core.words, topicWords, []);
          const generic = new Weighted(words.generic.map((w) => [w, 1] as const));
          const sentences = Array.from({ length: SENTENCES_PER_CATEGORY / 4 }, () => this.sentence(world, vocabulary, generic, 0.45, words.function));
          local.set(language, { names: themes[0]!.names, paragraphs: this.paragraphs(world, sentences, sentences, 1), short: shortParagraphs(sentences) });
        }
      }
      return { groups, groupPick, themes, local, offTopicShare: off?.share ?? 0.04, vagueShare: off?.vague ?? 0.03, offTopicPick };
    });
    this.categoryPick = weightedPairs(CATEGORIES.map((c, i) => [i, weights.get(c.shortname)!] as const));
  }

  /** Topic words of a category: the capture's counts (40 %) blended with the curated list (60 %). */
  private categoryVocabulary(shortname: string): Weighted<string> {
    const curated = CATEGORY_VOCABULARY[shortname]?.words ?? [];
    const captured = ((model.categoryWords as unknown as Record<string, Array<[string, number]>>)[shortname] ?? []).filter(([w]) => !GENERIC_WORDS.includes(w));
    const capturedTotal = captured.reduce((a, [, n]) => a + n, 0);
    const curatedShare = capturedTotal > 0 && captured.length >= 10 ? 0.6 : 1;
    const weights = new Map<string, number>();
    for (const w of curated) weights.set(w, (weights.get(w) ?? 0) + curatedShare / curated.length);
    if (curatedShare < 1) for (const [w, n] of captured) weights.set(w, (weights.get(w) ?? 0) + ((1 - curatedShare) * n) / capturedTotal);
    return weightedPairs([...weights]);
  }

  /** Words of any event: the curated list, the capture's words of many categories, and the words real outdoors and tech posts share. */
  private genericVocabulary(): Weighted<string> {
    const weights = new Map<string, number>();
    for (const w of GENERIC_WORDS) weights.set(w, 1);
    for (const [w, n] of model.genericWords as Array<[string, number]>) weights.set(String(w), (weights.get(String(w)) ?? 0) + Number(n) / 100);
    for (const [w, share] of REAL_SHARED) weights.set(w, (weights.get(w) ?? 0) + 2 * share);
    return weightedPairs([...weights]);
  }

  /** One sentence, JSON-escaped text: topic words with probability `topic`, else shared words. */
  private sentence(rng: Rng, topicWords: Weighted<string>, genericWords: Weighted<string>, topic: number, functionWords: readonly string[] = FUNCTION_WORDS): string {
    const length = rng.int(6, 20);
    const words: string[] = [];
    for (let i = 0; i < length; i += 1) {
      const u = rng.next();
      if (u < 0.35) words.push(rng.pick(functionWords));
      else if (rng.chance(topic)) words.push(topicWords.draw(rng.next()));
      else words.push(genericWords.draw(rng.next()));
    }
    let text = words.join(' ');
    text = text.charAt(0).toUpperCase() + text.slice(1) + rng.pick(['.', '.', '.', '!', '?', '.']);
    if (rng.chance(0.25)) text = text.replace(' and ', ' &amp; ');
    if (rng.chance(0.2)) text = text.replace(' we will ', " we'll ").replace(' it is ', " it's ");
    if (rng.chance(0.15)) text = text.replace(' you ', " you'll ");
    return flat(jsonText(text));
  }

  /** An event name: `base` with, sometimes, a word of real names for the category (the corpus's, else the capture's), a prefix and a suffix. */
  private eventName(rng: Rng, shortname: string, base: string): string {
    const captured = REAL_TEXT[shortname]?.nameWords ?? (model.categoryNameWords as unknown as Record<string, Array<[string, number]>>)[shortname] ?? [];
    const extra = captured.length > 0 && rng.chance(0.3) ? ` ${rng.pick(captured)[0].replace(/^./, (c) => c.toUpperCase())}` : '';
    return `${rng.pick(NAME_PREFIXES)}${base}${extra}${rng.pick(NAME_SUFFIXES)}`;
  }

  private makeVenue(rng: Rng, city: City): number {
    const upper = rng.chance(model.venueCountryUpper);
    const p = model.venuePresence;
    const zip =
      city.country === 'us' ? String(rng.int(10_000, 99_999)) : city.country === 'gb' ? `${rng.pick(['SW1', 'EC2', 'M1', 'EH1', 'BS1', 'B2', 'N1'])} ${rng.int(1, 9)}${rng.pick(['AA', 'BD', 'HX', 'QT'])}` : String(rng.int(1000, 9999));
    const fragment = renderObject(this.venueOrder.draw(rng.next()), {
      name: json(`${rng.pick(VENUE_PREFIXES)} ${rng.pick(VENUE_NAMES)}`),
      address_1: json(`${rng.int(1, 2999)} ${rng.pick(STREETS)}`),
      address_2: rng.chance(p.address_2) ? json(`Suite ${rng.int(1, 9) * 100}`) : undefined,
      city: json(city.city),
      country: json(upper ? city.country.toUpperCase() : city.country),
      state: city.state !== undefined && rng.chance(Math.min(1, p.state / 0.75)) ? json(city.state) : undefined,
      zip: rng.chance(p.zip) ? json(zip) : undefined,
      phone: rng.chance(p.phone) ? json(`${rng.int(200, 999)}.${rng.int(200, 999)}.${rng.int(1000, 9999)}`) : undefined,
      ...(rng.chance(p.lat)
        ? { lat: String(Math.round((city.lat + (rng.next() - 0.5) * 0.2) * 1e6) / 1e6), lon: String(Math.round((city.lon + (rng.next() - 0.5) * 0.2) * 1e6) / 1e6) }
        : {}),
    });
    this.venues.push(flat(fragment));
    return this.venues.length - 1;
  }

  size(): number {
    return this.rows;
  }

  produce(): boolean {
    if (this.rows >= this.count) return false;
    const k = this.rows;
    if (k === this.rowEvent.length) this.growRows();
    const rng = this.rng;
    const now = this.startMs + Math.floor(k * this.stepMs);
    let e: number;
    let mtime: number;
    if (this.burstLeft === 0 && rng.chance(this.burstStart)) this.burstLeft = rng.int(10, 60);
    if (this.burstLeft > 0) {
      // After a reconnect the real stream mixed in records of events last changed a while ago.
      this.burstLeft -= 1;
      const ageMs = rng.chance(0.85) ? 3_600_000 * (0.9 + 0.7 * rng.next()) : 86_400_000 * (1 + 299 * rng.next() ** 2);
      e = this.newEvent(now - Math.round(ageMs));
      mtime = this.eventMtime[e]!;
      // Each such event changes again soon, so its id also arrives with a current mtime: a consumer
      // that loses an old-mtime record in flight (a crash) gets the event back through since_mtime.
      this.refreshEvent.push(e);
      this.refreshDue.push(k + rng.int(50, 400));
    } else if (this.refreshHead < this.refreshDue.length && this.refreshDue[this.refreshHead]! <= k) {
      e = this.refreshEvent[this.refreshHead]!;
      this.refreshHead += 1;
      if (this.refreshHead > 1024) {
        this.refreshEvent.splice(0, this.refreshHead);
        this.refreshDue.splice(0, this.refreshHead);
        this.refreshHead = 0;
      }
      mtime = this.change(e, now, rng);
    } else if (this.activeCount > 20 && rng.chance(this.resend)) {
      // A change to a recent event: newer mtime, status or RSVP counts moved on.
      const u = rng.next();
      const back = Math.floor(u * u * Math.min(this.activeCount, this.active.length));
      e = this.active[(this.activeCount - 1 - back) % this.active.length]!;
      mtime = this.change(e, now, rng);
    } else {
      e = this.newEvent(now);
      mtime = now;
    }
    this.rowEvent[k] = e;
    this.rowMtime[k] = mtime;
    this.rowStatus[k] = this.eventStatus[e]!;
    this.rowYes[k] = this.eventYes[e]!;
    this.rowMaybe[k] = this.eventMaybe[e]!;
    this.rows += 1;
    return true;
  }

  private newEvent(mtime: number): number {
    if (this.events === this.eventCreated.length) this.growEvents();
    const e = this.events++;
    const rng = this.rng;
    const u = rng.next();
    this.eventStatus[e] = u < 0.88 ? UPCOMING : u < 0.94 ? SUGGESTED : u < 0.96 ? PROPOSED : u < 0.98 ? CANCELED : DELETED;
    const limit = this.rsvpLimitOf(e);
    const yes = Math.round(fromQuantiles(model.yesRsvp, rng.next() * 0.9));
    this.eventYes[e] = limit > 0 ? Math.min(limit, yes) : yes;
    this.eventMaybe[e] = 0;
    this.eventCreated[e] = mtime;
    this.eventMtime[e] = mtime;
    this.active[this.activeCount % this.active.length] = e;
    this.activeCount += 1;
    return e;
  }

  /** Records a change to an event at `now` (strictly after its previous mtime); returns the new mtime. */
  private change(e: number, now: number, rng: Rng): number {
    const mtime = Math.max(now, this.eventMtime[e]! + 1);
    this.advance(e, rng);
    this.eventMtime[e] = mtime;
    return mtime;
  }

  /** Moves an event on by one change. */
  private advance(e: number, rng: Rng): void {
    const status = this.eventStatus[e]!;
    const u = rng.next();
    if (status === SUGGESTED) this.eventStatus[e] = u < 0.4 ? PROPOSED : u < 0.6 ? UPCOMING : SUGGESTED;
    else if (status === PROPOSED) this.eventStatus[e] = u < 0.5 ? UPCOMING : PROPOSED;
    else if (status === CANCELED) this.eventStatus[e] = u < 0.4 ? DELETED : CANCELED;
    else if (status === UPCOMING && u < 0.04) this.eventStatus[e] = CANCELED;
    else if (status === UPCOMING && u < 0.09) this.eventStatus[e] = DELETED;
    if (this.eventStatus[e] === status && status !== DELETED) {
      const limit = this.rsvpLimitOf(e);
      const yes = this.eventYes[e]! + rng.int(1, 3);
      this.eventYes[e] = Math.min(limit > 0 ? limit : 65_535, yes);
      if (rng.chance(0.05)) this.eventMaybe[e] = Math.min(65_535, this.eventMaybe[e]! + 1);
    }
  }

  private rsvpLimitOf(e: number): number {
    return this.rsvpLimit.draw(hash3(this.seed, e, 7) / 4294967296);
  }

  id(k: number): string {
    return eventId(this.seed, this.idOffset, this.rowEvent[k]!);
  }

  mtime(k: number): number {
    return this.rowMtime[k]!;
  }

  line(k: number): string {
    const e = this.rowEvent[k]!;
    const rng = new Rng(hash3(this.seed, e, 0xe7e));
    const category = this.categories[this.categoryPick.draw(rng.next())]!;
    const group = category.groups[category.groupPick.draw(rng.next())]!;
    // Most events talk about their group's theme, some about another theme of its category, and
    // some about another category's topic (an outdoors club's wine tasting, a tech group's happy hour).
    // And a few say nothing about any topic ("Monthly Meetup", details to follow).
    let topic: ThemePool;
    const u = rng.next();
    const offTopic = u < category.offTopicShare + category.vagueShare;
    if (u < category.vagueShare) topic = this.vague;
    else if (offTopic) {
      const other = this.categories[category.offTopicPick.draw(rng.next())]!;
      topic = rng.pick(other.themes);
    } else {
      topic = rng.chance(OWN_THEME_SHARE) ? category.themes[group.theme]! : rng.pick(category.themes);
      const local = group.language === undefined ? undefined : category.local.get(group.language);
      if (local !== undefined && rng.chance(0.8)) topic = { names: topic.names, paragraphs: local.paragraphs, short: local.short };
    }
    const numericId = String(200_000_000 + this.idOffset + e);
    const created = this.eventCreated[e]!;
    const hasTime = rng.chance(model.presence.time);
    const lead = Math.max(0.02, fromQuantiles(model.leadDays, rng.next())) * 86_400_000;
    const time = Math.round((created + lead) / 900_000) * 900_000;
    const hasFee = rng.chance(model.presence.fee);
    let fee: string | undefined;
    if (hasFee) {
      const amount = Math.round(fromQuantiles(model.fee.amount, rng.next()));
      fee = renderObject(this.feeOrder.draw(rng.next()), { amount: String(Math.max(1, amount)), currency: json(group.city.currency), description: this.feeDescription.draw(rng.next()) });
    }
    const venue = rng.chance(model.presence.venue) ? this.venues[rng.chance(0.85) ? rng.pick(group.venues) : rng.pick(this.venuesByCity.get(group.city)!)] : undefined;
    const v = this.scratch;
    v[K.id] = `"${eventId(this.seed, this.idOffset, e)}"`; // digits or letters: nothing to escape
    v[K.name] = rng.pick(topic.names);
    v[K.event_url] = `"http:\\/\\/www.meetup.com\\/${group.urlname}\\/events\\/${numericId}\\/"`;
    v[K.mtime] = String(this.rowMtime[k]!);
    v[K.status] = STATUS_JSON[this.rowStatus[k]!];
    v[K.visibility] = '"public"';
    v[K.venue_visibility] = this.venueVisibility.draw(rng.next());
    v[K.rsvp_limit] = String(this.rsvpLimitOf(e));
    v[K.yes_rsvp_count] = String(this.rowYes[k]!);
    v[K.maybe_rsvp_count] = String(this.rowMaybe[k]!);
    v[K.payment_required] = hasFee ? '"1"' : '"0"';
    v[K.group] = group.fragment;
    v[K.time] = hasTime ? String(time) : undefined;
    v[K.utc_offset] = hasTime ? group.utcOffset : undefined;
    v[K.duration] = rng.chance(model.presence.duration) ? this.duration.draw(rng.next()) : undefined;
    v[K.description] = rng.chance(model.presence.description) ? this.description(rng, topic, group, offTopic) : undefined;
    v[K.venue] = venue;
    v[K.fee] = fee;
    // The record in one of the capture's key orders.
    const order = this.eventOrder.draw(rng.next());
    let out = '{';
    let first = true;
    for (let i = 0; i < order.length; i += 1) {
      const key = order[i]!;
      const value = v[key];
      if (value === undefined) continue;
      out += (first ? FIRST_KEY[key]! : NEXT_KEY[key]!) + value;
      first = false;
    }
    return out + '}';
  }

  /** An HTML description, as a JSON string literal, about `topic`. */
  private description(rng: Rng, topic: ThemePool, group: GroupInfo, offTopic: boolean): string {
    // Scaled so that descriptions with their markup come out the capture's size.
    const target = 0.8 * fromQuantiles(model.description.chars, rng.next());
    // Some descriptions carry no topic words at all ("details to follow, RSVP"): the realistic floor on accuracy.
    // An off-topic event (a hiking club's holiday party) is mostly logistics: where, when, bring a friend.
    const topicShare = rng.chance(0.03) ? 0 : offTopic ? 0.5 * rng.next() : 0.3 + 0.7 * rng.next();
    const features = model.description.features;
    let out = '"';
    if (rng.chance(features.image)) out += `<p><img src=\\"http:\\/\\/photos${rng.int(1, 4)}.meetupstatic.com\\/photos\\/event\\/d\\/4\\/0\\/4\\/600_${rng.int(100_000_000, 459_999_999)}.jpeg\\"><\\/p> \\n`;
    let length = 0;
    let first = true;
    if (target < SHORT_DESCRIPTION) {
      // A line or two ("Bring water and lunch.", "Four class sessions, see the dates."): the name carries most of the topic.
      out += rng.chance(topicShare) ? rng.pick(topic.short) : rng.pick(this.genericShort);
      length = target;
    }
    while (length < target) {
      const paragraph = rng.chance(topicShare) ? rng.pick(topic.paragraphs) : rng.pick(this.genericParagraphs);
      out += first ? paragraph : '\\n' + paragraph;
      length += paragraph.length;
      first = false;
    }
    if (rng.chance(features.link)) out += `\\n<p>More at <a href=\\"http:\\/\\/www.meetup.com\\/${group.urlname}\\/\\">www.meetup.com\\/${group.urlname}<\\/a><\\/p>`;
    return out + '"';
  }

  /** A pool of HTML paragraphs (JSON-escaped): sentences from `main` (else `other`), some bold, some with breaks. */
  private paragraphs(rng: Rng, main: string[], other: string[], mainShare: number): string[] {
    const features = model.description.features;
    return Array.from({ length: PARAGRAPHS_PER_POOL }, () => {
      let p = '<p>';
      const sentences = rng.int(1, 4);
      for (let s = 0; s < sentences; s += 1) {
        const text = rng.pick(rng.chance(mainShare) ? main : other);
        p += (s > 0 ? ' ' : '') + (s === 0 && rng.chance(features.bold / 3) ? `<b>${text}<\\/b>` : text);
      }
      if (rng.chance(features.br / 3)) p += '<br>\\n\\n';
      return flat(p + '<\\/p>');
    });
  }

  private growRows(): void {
    const n = this.rowEvent.length * 2;
    this.rowEvent = grow(this.rowEvent, new Uint32Array(n));
    this.rowMtime = grow(this.rowMtime, new Float64Array(n));
    this.rowStatus = grow(this.rowStatus, new Uint8Array(n));
    this.rowYes = grow(this.rowYes, new Uint16Array(n));
    this.rowMaybe = grow(this.rowMaybe, new Uint16Array(n));
  }

  private growEvents(): void {
    const n = this.eventCreated.length * 2;
    this.eventCreated = grow(this.eventCreated, new Float64Array(n));
    this.eventStatus = grow(this.eventStatus, new Uint8Array(n));
    this.eventYes = grow(this.eventYes, new Uint16Array(n));
    this.eventMaybe = grow(this.eventMaybe, new Uint16Array(n));
    this.eventMtime = grow(this.eventMtime, new Float64Array(n));
  }
}

function grow<T extends Uint8Array | Uint16Array | Uint32Array | Float64Array>(from: T, to: T): T {
  to.set(from as never);
  return to;
}

const LETTERS = 'abcdefghijklmnopqrstuvwxyz';

/** An event's id: numeric like "221001899", or (about 30 %) alphanumeric like recurring events' "dgfvkkytfbsb". Unique per event. */
function eventId(seed: number, offset: number, e: number): string {
  if (hash3(seed, e, 3) / 4294967296 < model.numericIdShare) return String(200_000_000 + offset + e);
  let h = hash3(seed, e, 4);
  let id = '';
  for (let i = 0; i < 5; i += 1) {
    id += LETTERS[h % 26];
    h = Math.floor(h / 26);
  }
  // A bijection of e modulo 26^7 (the multiplier is coprime with 26), so ids stay unique but look random.
  let n = (e * 1_000_003 + (h % 1000)) % 8_031_810_176;
  for (let i = 0; i < 7; i += 1) {
    id += LETTERS[n % 26];
    n = Math.floor(n / 26);
  }
  return id;
}
