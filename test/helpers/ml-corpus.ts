import { Random } from '../../src/ml/random.ts';
import type { LabelledDoc } from '../../src/ml/labels.ts';

/**
 * A seeded corpus of outdoors-adventure and tech events for the classifier's tests and bench,
 * shaped like open_events records (HTML descriptions, group.category). Events of one group share
 * a signature (name words, place names, a greeting), so a split by event would leak; wording is
 * mostly English with some German, Spanish, French and Dutch groups; a few events carry almost no
 * topic words, so a perfect score is out of reach.
 */

const OUTDOORS = `hike hiking hikers trail trails trailhead summit peak mountain mountains miles elevation gain
  camping campsite tent backpacking kayak kayaking paddle canoe river lake climbing climb climbers bouldering ski
  skiing snowshoe snowshoeing bike ride cycling route loop park forest waterfall beach picnic boots water sunscreen
  carpool scenic views wildlife weather gear pace moderate strenuous steep canyon creek ridge hills walk walking nature
  sunset sailing fishing rafting trek trekking headlamp layers poles rocks wilderness valley overlook glacier
  campfire backpack lunch snacks terrain descent ascent shore island coast dunes meadow falls snow`.split(/\s+/);
const TECH = `data software developer developers programming code coding javascript python java react cloud aws api
  machine learning startup startups agenda talk talks presentation speaker speakers slides demo app apps web mobile
  security database devops docker kubernetes linux source hackathon engineers engineering product analytics
  blockchain architecture framework laptop github design ux testing frontend backend server servers deployment
  microservices typescript rust golang algorithms neural network networks sql nosql analytics scrum agile
  containers serverless compiler open api sdk iot hardware arduino raspberry robotics wifi`.split(/\s+/);
const GENERIC = `meetup join welcome everyone fun friends bring meet time new members group please rsvp event free
  pizza drinks food parking location great see people evening morning weekend saturday sunday questions contact
  info beginners experience learn level want like come night community first month week start meeting place
  details update note signup waitlist limited spots host organizer thanks looking forward hope share together
  afterwards social chat coffee beer dinner arrive early late cancel change registration ticket cost bring
  friendly all levels newcomers regulars photo photos phone number address street downtown center`.split(/\s+/);
const AMBIGUOUS = `app map download online website link register phone park center open network`.split(/\s+/);

const FOREIGN: Record<string, { outdoors: string[]; tech: string[]; generic: string[] }> = {
  de: {
    outdoors: 'wandern wanderung berg berge gipfel wald see fluss klettern radtour höhenmeter rucksack wanderschuhe'.split(' '),
    tech: 'entwickler programmierung daten software vortrag vorträge softwareentwicklung datenbank künstliche intelligenz'.split(' '),
    generic: 'treffen wir freuen uns euch gruppe anmeldung kostenlos abend samstag sonntag treffpunkt'.split(' '),
  },
  es: {
    outdoors: 'senderismo ruta montaña montañas cumbre bosque río lago escalada bicicleta caminata naturaleza'.split(' '),
    tech: 'desarrolladores programación datos software charla charlas tecnología desarrollo nube aprendizaje'.split(' '),
    generic: 'encuentro grupo bienvenidos gratis tarde sábado domingo punto reunión amigos'.split(' '),
  },
  fr: {
    outdoors: 'randonnée randonnées sentier montagne sommet forêt rivière lac escalade vélo balade nature'.split(' '),
    tech: 'développeurs programmation données logiciel conférence présentation développement informatique'.split(' '),
    generic: 'rencontre groupe bienvenue gratuit soirée samedi dimanche rendez amis'.split(' '),
  },
  nl: {
    outdoors: 'wandelen wandeling fietsen fietstocht bos strand rivier klimmen natuur route heuvels'.split(' '),
    tech: 'ontwikkelaars programmeren gegevens software presentatie ontwikkeling lezing'.split(' '),
    generic: 'bijeenkomst groep welkom gratis avond zaterdag zondag vrienden'.split(' '),
  },
};

const SYLLABLES = 'ka lo mi ra ven tor sel bru han dor fel gri mon pas qui ret sun tal var wel zor'.split(' ');

/** A generated event: a complete open_events record (what the ETL validates and the classifier reads). */
export interface CorpusEvent {
  id: string;
  name: string;
  event_url: string;
  mtime: number;
  time: number;
  utc_offset: number;
  status: 'upcoming';
  visibility: 'public';
  venue_visibility: 'public';
  rsvp_limit: number;
  yes_rsvp_count: number;
  maybe_rsvp_count: number;
  payment_required: '0';
  description: string;
  group: {
    id: number;
    name: string;
    urlname: string;
    join_mode: 'open';
    city: string;
    country: string;
    group_lat: number;
    group_lon: number;
    category: { id: number; name: string; shortname: string };
  };
}

export interface CorpusOptions {
  events: number;
  seed: number;
  /** Mean events per group (group sizes vary from 1 to about twice this). */
  eventsPerGroup?: number;
  /** Range of filler (non-topic) words per description; default [10, 50]. Real ones average ~200 words. */
  fillerWords?: [number, number];
}

/** Generates `events` records from about events / eventsPerGroup groups, half of each class. */
export function generateCorpus(options: CorpusOptions): CorpusEvent[] {
  const rng = new Random(options.seed);
  const pick = <T>(items: readonly T[]): T => items[rng.int(items.length)]!;
  const perGroup = options.eventsPerGroup ?? 8;
  const word = (): string => Array.from({ length: 2 + rng.int(2) }, () => pick(SYLLABLES)).join('');
  const out: CorpusEvent[] = [];
  let groupId = 1000;
  while (out.length < options.events) {
    const label = rng.int(2) as 0 | 1;
    const lang = rng.next() < 0.8 ? 'en' : pick(Object.keys(FOREIGN));
    const foreign = FOREIGN[lang];
    const topic = label === 1 ? TECH : OUTDOORS;
    const groupTopic = [...Array(6)].map(() => pick(foreign ? [...topic, ...(label ? foreign.tech : foreign.outdoors)] : topic));
    const signature = [word(), word(), word()];
    const groupName = `${signature[0]} ${pick(label ? ['Developers', 'Coders', 'Data Club', 'Builders'] : ['Hikers', 'Trail Club', 'Explorers', 'Paddlers'])}`;
    const category = label ? { id: 34, name: 'tech', shortname: 'tech' } : { id: 23, name: 'outdoors/adventure', shortname: 'outdoors-adventure' };
    const id = groupId++;
    const urlname = `${signature[0]}-${id}`;
    const city = pick(['New York', 'London', 'Berlin', 'Madrid', 'Paris', 'Amsterdam', 'Seattle']);
    const size = 1 + rng.int(2 * perGroup - 1);
    for (let e = 0; e < size && out.length < options.events; e++) {
      const words: string[] = [];
      const topicWords = rng.next() < 0.05 ? rng.int(2) : 2 + rng.int(8);
      for (let i = 0; i < topicWords; i++) words.push(rng.next() < 0.4 ? pick(groupTopic) : pick(topic));
      if (foreign) for (let i = 0; i < topicWords; i++) words.push(pick(label ? foreign.tech : foreign.outdoors));
      const [minFiller, maxFiller] = options.fillerWords ?? [10, 50];
      const generic = minFiller + rng.int(maxFiller - minFiller);
      for (let i = 0; i < generic; i++) words.push(foreign && rng.next() < 0.6 ? pick(foreign.generic) : pick(GENERIC));
      if (rng.next() < 0.3) words.push(pick(AMBIGUOUS));
      for (let i = 0; i < 3; i++) words.push(pick(signature));
      // The label words appear too; the tokenizer must drop them.
      if (rng.next() < 0.3) words.push(label ? 'tech' : 'outdoors adventure');
      rng.shuffle(words);
      const cut = Math.max(1, Math.floor(words.length / 3));
      const description = `<p>${words.slice(0, cut).join(' ')}&nbsp;</p>\n<p><b>${words.slice(cut).join(' ')}</b> &amp; more</p>`;
      const nameWords = [pick(topic), pick(GENERIC), pick(signature)];
      const mtime = 1_425_816_000_000 + out.length * 1000;
      out.push({
        id: `${id}e${e}`,
        name: nameWords.join(' '),
        event_url: `http://www.meetup.com/${urlname}/events/${id}e${e}/`,
        mtime,
        time: mtime + 7 * 86_400_000,
        utc_offset: 0,
        status: 'upcoming',
        visibility: 'public',
        venue_visibility: 'public',
        rsvp_limit: 0,
        yes_rsvp_count: 1 + rng.int(30),
        maybe_rsvp_count: 0,
        payment_required: '0',
        description,
        group: { id, name: groupName, urlname, join_mode: 'open', city, country: 'us', group_lat: 40 + rng.next(), group_lon: -74 + rng.next(), category },
      });
    }
  }
  return out;
}

/** The events as raw NDJSON lines (what `ml evaluate --input` reads). */
export function corpusNdjson(events: readonly CorpusEvent[]): string {
  return events.map((e) => JSON.stringify(e)).join('\n') + '\n';
}

/** Labelled docs from generated events, stripping the HTML independently of src/ml's parser. */
export function corpusDocs(events: readonly CorpusEvent[]): LabelledDoc[] {
  return events.map((e) => ({
    eventId: e.id,
    groupId: e.group.id,
    label: e.group.category.id === 34 ? 1 : 0,
    text: `${e.name}\n${e.description.replace(/<[^>]+>/g, ' ').replaceAll('&nbsp;', ' ').replaceAll('&amp;', '&')}`,
  }));
}
