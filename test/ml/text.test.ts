import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { gunzipSync } from 'node:zlib';
import { labelledDocsFromRaw } from '../../src/ml/data.ts';
import { STOPWORDS_DIR, eventText, htmlToText, stopWords, terms, tokenize } from '../../src/ml/text.ts';
import { fitVocabulary, pairIndex, termIndex, transform, transformTokens } from '../../src/ml/tfidf.ts';
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

describe('scoring features from tokens (transformTokens)', () => {
  it('gives exactly the rows transform gives over the word-and-pair terms, on the real corpus', () => {
    // Given the real corpus's texts and a vocabulary of words and pairs fitted on them
    const texts = labelledDocsFromRaw(gunzipSync(readFileSync(REST_CORPUS)).toString('utf8')).docs.map((d) => d.text);
    const vocabulary = fitVocabulary(texts.map((t) => terms(t, 2)), { size: 20_000, minDf: 3 });
    const index = termIndex(vocabulary);
    // When features are built both ways, with the linear models' weighting
    const weighting = { sublinear: true, normalize: true };
    const viaTerms = transform(vocabulary, texts.map((t) => terms(t, 2)), index, weighting);
    const viaTokens = transformTokens(vocabulary, texts.map((t) => tokenize(t)), index, pairIndex(vocabulary), weighting);
    // Then they agree entry for entry (and pairs are in play: the vocabulary has some)
    expect(vocabulary.terms.some((t) => t.includes(' '))).toBe(true);
    expect(Array.from(viaTokens.rowPtr)).toEqual(Array.from(viaTerms.rowPtr));
    expect(Array.from(viaTokens.colIdx)).toEqual(Array.from(viaTerms.colIdx));
    expect(Array.from(viaTokens.values)).toEqual(Array.from(viaTerms.values));
  });
});
