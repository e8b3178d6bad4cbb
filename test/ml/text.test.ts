import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { labelledDocsFromRaw } from '../../src/ml/data.ts';
import { STOPWORDS_DIR, eventText, htmlToText, stopWords, terms, tokenize } from '../../src/ml/text.ts';
import { fitTransform, pairIndex, termIndex, transformTokens } from '../../src/ml/tfidf.ts';
import { REST_CORPUS } from '../helpers/fixtures.ts';

describe('tokenize', () => {
  it('keeps lower-cased runs of Unicode letters and drops digits, punctuation and single letters', () => {
    // Given a mixed text
    const text = 'Hike MOUNT-Si (8 miles) @ 9am: Über Café Niño Ёлка a b';
    // When it is tokenised
    const tokens = tokenize(text, new Set());
    // Then only letter runs of length ≥ 2 remain, lower-cased, accents kept
    expect(tokens).toEqual(['hike', 'mount', 'si', 'miles', 'am', 'über', 'café', 'niño', 'ёлка']);
  });

  it('drops stop words of every shipped language and the label words themselves', () => {
    // Given one stop word per language plus the label words and two topic words
    const text = 'the und los les uma della het Tech technology OUTDOORS outdoor adventure adventures trail python';
    // When tokenised with the shipped lists
    // Then only the topic words survive
    expect(tokenize(text)).toEqual(['trail', 'python']);
    // And URL fragments name sites, not topics
    expect(tokenize('see http://www.example.com/hikes.html')).toEqual(['see', 'example', 'hikes']);
  });

  it('gives the tokens spark/tests/test_ml.py expects from Spark for the same text', () => {
    expect(tokenize('Hike MOUNT-Si (8 miles) the Über Café a Outdoors adventure')).toEqual(['hike', 'mount', 'miles', 'café']);
    expect(tokenize('Python & Tech talks: und los les')).toEqual(['python', 'talks']);
  });

  it('ships English, German, Spanish, French, Portuguese, Italian and Dutch lists, the label words and URL fragments', () => {
    const files = readdirSync(STOPWORDS_DIR).sort();
    expect(files).toEqual(['de.txt', 'en.txt', 'es.txt', 'fr.txt', 'it.txt', 'labels.txt', 'nl.txt', 'pt.txt', 'web.txt']);
    // Every non-comment line of every file is in the set, and no comment leaks in
    const expected = new Set<string>();
    for (const f of files) {
      for (const line of readFileSync(path.join(STOPWORDS_DIR, f), 'utf8').split('\n')) {
        if (line.trim() && !line.startsWith('#')) expected.add(line.trim());
      }
    }
    expect([...stopWords()].sort()).toEqual([...expected].sort());
  });
});

describe('htmlToText', () => {
  it('removes tags, scripts and comments and decodes entities', () => {
    const html = '<p>Caf&eacute; &amp; trail&nbsp;run</p><script>var x = "code";</script><!-- hidden --><br>&#72;&#x69; &Uuml;ber &unknown;';
    expect(htmlToText(html)).toBe('Café & trail run Hi Über &unknown;');
  });

  it('joins the event name and description', () => {
    expect(eventText('Hike', 'up the hill')).toBe('Hike\nup the hill');
    expect(eventText('Hike', null)).toBe('Hike');
  });
});

describe('features of words and word pairs (fitTransform, transformTokens)', () => {
  // Reference features computed from the terms' strings (text.ts `terms`), independently of tfidf.ts.
  function referenceVocabulary(docs: string[][], size: number, minDf: number): { terms: string[]; idf: number[] } {
    const df = new Map<string, number>();
    for (const d of docs) for (const t of new Set(d)) df.set(t, (df.get(t) ?? 0) + 1);
    const kept = [...df].filter(([, n]) => n >= minDf).sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1)).slice(0, size);
    return { terms: kept.map(([t]) => t), idf: kept.map(([, n]) => Math.log((docs.length + 1) / (n + 1))) };
  }
  function referenceRow(doc: string[], column: Map<string, number>, idf: number[]): Map<number, number> {
    const counts = new Map<number, number>();
    for (const t of doc) if (column.has(t)) counts.set(column.get(t)!, (counts.get(column.get(t)!) ?? 0) + 1);
    const values = new Map([...counts].map(([c, n]) => [c, (1 + Math.log(n)) * idf[c]!]));
    const length = Math.sqrt([...values.values()].reduce((s, v) => s + v * v, 0));
    return new Map([...values].map(([c, v]) => [c, v / length]));
  }

  it('fits the vocabulary of words and pairs by document frequency and builds each text’s rows, on the real corpus', () => {
    // Given the real corpus's texts
    const texts = labelledDocsFromRaw(gunzipSync(readFileSync(REST_CORPUS)).toString('utf8')).docs.map((d) => d.text);
    const weighting = { sublinear: true, normalize: true };
    // When features are fitted on their tokens
    const { vocabulary, rows } = fitTransform(texts.map((t) => tokenize(t)), 2, { size: 20_000, minDf: 3 }, weighting);
    // Then the vocabulary is the one counted from the terms' strings (pairs included), in the same order
    const expected = referenceVocabulary(texts.map((t) => terms(t, 2)), 20_000, 3);
    expect(vocabulary.terms).toEqual(expected.terms);
    expect(Array.from(vocabulary.idf)).toEqual(expected.idf);
    expect(vocabulary.terms.some((t) => t.includes(' '))).toBe(true);
    // And every row holds the sublinear, unit-length TF-IDF of its terms
    const column = new Map(expected.terms.map((t, c) => [t, c]));
    const wrong = texts.filter((t, r) => {
      const want = referenceRow(terms(t, 2), column, expected.idf);
      const from = rows.rowPtr[r]!;
      const to = rows.rowPtr[r + 1]!;
      if (to - from !== want.size) return true;
      for (let k = from; k < to; k++) if (!(Math.abs(rows.values[k]! - (want.get(rows.colIdx[k]!) ?? Number.NaN)) < 1e-6)) return true;
      return false;
    });
    expect(wrong).toEqual([]);
    // And scoring builds the same rows from tokens, entry for entry
    const viaTokens = transformTokens(vocabulary, texts.map((t) => tokenize(t)), termIndex(vocabulary), pairIndex(vocabulary), weighting);
    expect(Array.from(viaTokens.rowPtr)).toEqual(Array.from(rows.rowPtr));
    expect(Array.from(viaTokens.colIdx)).toEqual(Array.from(rows.colIdx));
    expect(Array.from(viaTokens.values)).toEqual(Array.from(rows.values));
  });

  it('keeps words only with ngrams 1, and drops terms below the minimum document frequency', () => {
    const docs = [['trail', 'run'], ['trail', 'run'], ['trail', 'python'], ['python']];
    const words = fitTransform(docs, 1, { size: 10, minDf: 2 }, { sublinear: false, normalize: false });
    expect(words.vocabulary.terms).toEqual(['trail', 'python', 'run']);
    const pairs = fitTransform(docs, 2, { size: 10, minDf: 2 }, { sublinear: false, normalize: false });
    expect(pairs.vocabulary.terms).toEqual(['trail', 'python', 'run', 'trail run']);
    // Row 0 is trail + run + "trail run", raw counts × idf
    const idf = (df: number): number => Math.fround(Math.log(5 / (df + 1)));
    expect(Array.from(pairs.rows.colIdx.subarray(0, pairs.rows.rowPtr[1]))).toEqual([0, 2, 3]);
    expect(Array.from(pairs.rows.values.subarray(0, pairs.rows.rowPtr[1]))).toEqual([idf(3), idf(2), idf(2)]);
  });
});
