import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';

/**
 * Text preparation shared by training and prediction: HTML to plain text (for raw events), and
 * the tokenizer. The Spark job (spark/jobs/ml.py) does the same steps with RegexTokenizer
 * (pattern \p{L}+, lower case, minimum length 2) and StopWordsRemover over the same files.
 */

/** Folder of the stop-word lists (one word a line, '#' comments), read by TypeScript and Python. */
export const STOPWORDS_DIR = path.join(import.meta.dirname, 'stopwords');

/** Tokens shorter than this are dropped (single letters carry no topic). */
export const MIN_TOKEN_LENGTH = 2;

let cachedStopWords: ReadonlySet<string> | undefined;

/** Every stop word: all language lists plus the label words (labels.txt). */
export function stopWords(): ReadonlySet<string> {
  if (cachedStopWords) return cachedStopWords;
  const words = new Set<string>();
  for (const file of readdirSync(STOPWORDS_DIR).filter((f) => f.endsWith('.txt')).sort()) {
    for (const line of readFileSync(path.join(STOPWORDS_DIR, file), 'utf8').split('\n')) {
      const word = line.trim().toLowerCase();
      if (word !== '' && !word.startsWith('#')) words.add(word);
    }
  }
  cachedStopWords = words;
  return words;
}

const LETTERS = /\p{L}+/gu;

/** Lower-cased runs of Unicode letters, at least MIN_TOKEN_LENGTH long, minus stop words. */
export function tokenize(text: string, stop: ReadonlySet<string> = stopWords()): string[] {
  const out: string[] = [];
  for (const token of text.toLowerCase().match(LETTERS) ?? []) {
    if (token.length >= MIN_TOKEN_LENGTH && !stop.has(token)) out.push(token);
  }
  return out;
}

/**
 * The terms of a text: its tokens and, with `ngrams` 2, each pair of consecutive tokens joined by a
 * space ("machine learning") — pairs are formed after stop words are dropped, as Spark's NGram
 * does on StopWordsRemover's output.
 */
export function terms(text: string, ngrams: 1 | 2, stop: ReadonlySet<string> = stopWords()): string[] {
  const tokens = tokenize(text, stop);
  if (ngrams === 1) return tokens;
  const out = tokens.slice();
  for (let i = 0; i + 1 < tokens.length; i++) out.push(`${tokens[i]} ${tokens[i + 1]}`);
  return out;
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '–', mdash: '—', hellip: '…',
  rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“', bull: '•', middot: '·', copy: '©', reg: '®', euro: '€',
};

/**
 * Plain text of an HTML fragment (an event description): drops script/style, turns tags into
 * spaces and decodes entities, including accented letters (&eacute; → é) so words stay whole.
 */
export function htmlToText(html: string): string {
  return html
    .replace(/<(script|style)\b[^>]*>[\s\S]*?<\/\1\s*>/gi, ' ')
    .replace(/<!--[\s\S]*?-->/g, ' ')
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#x[0-9a-f]+|#\d+|[a-z][a-z0-9]*);/gi, (whole, entity: string) => decodeEntity(entity) ?? whole)
    .replace(/\s+/g, ' ')
    .trim();
}

function decodeEntity(entity: string): string | undefined {
  if (entity[0] === '#') {
    const code = entity[1] === 'x' || entity[1] === 'X' ? parseInt(entity.slice(2), 16) : parseInt(entity.slice(1), 10);
    return Number.isFinite(code) && code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : undefined;
  }
  const named = NAMED_ENTITIES[entity.toLowerCase()];
  if (named !== undefined) return named;
  // Latin-1 accented letters: &eacute; &Uuml; &ccedil; &ntilde; &aring; ...
  const accent = /^([a-zA-Z])(acute|grave|circ|uml|tilde|cedil|ring)$/.exec(entity);
  if (accent) {
    const marks: Record<string, string> = { acute: '\u0301', grave: '\u0300', circ: '\u0302', uml: '\u0308', tilde: '\u0303', cedil: '\u0327', ring: '\u030a' };
    return (accent[1]! + marks[accent[2]!]!).normalize('NFC');
  }
  if (entity === 'szlig') return 'ß';
  return undefined;
}

/** The text the classifier reads for an event: its name and its plain-text description. */
export function eventText(name: string | null | undefined, descriptionText: string | null | undefined): string {
  return `${name ?? ''}\n${descriptionText ?? ''}`.trim();
}

/** The event's name: the first line of its text (eventText puts the name first, on its own line). */
export function nameOf(text: string): string {
  const end = text.indexOf('\n');
  return end < 0 ? text : text.slice(0, end);
}
