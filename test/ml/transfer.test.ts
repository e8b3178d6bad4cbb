import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { scorer, trainTextModel } from '../../src/ml/model.ts';
import { paramsFromConfig } from '../../src/ml/service.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { CAPTURE, REST_CORPUS } from '../helpers/fixtures.ts';

/**
 * Does what the model learns from generated text transfer to real Meetup descriptions? The model
 * is trained on generated events only (what `ml train` sees in the local profile) and scored on
 * real events: the capture's outdoors/tech events and the whole real corpus (6,499 events). The
 * generator learnt word statistics from that corpus (never its sentences: see the generator's
 * test), so the corpus score says how close generated text comes to real text. Labels, texts and
 * metrics are computed here, independently of src/ml.
 */

const LABELS = new Map<number, 0 | 1>([
  [23, 0], // outdoors-adventure
  [34, 1], // tech
]);

interface Doc {
  label: 0 | 1;
  text: string;
}

/** Plain text of an HTML description: tags out, the common entities decoded. */
function stripHtml(html: string): string {
  const entities: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ' };
  return html
    .replace(/<[^>]*>/g, ' ')
    .replace(/&(#\d+|[a-z]+);/gi, (whole, e: string) => (e.startsWith('#') ? String.fromCodePoint(Number(e.slice(1))) : (entities[e.toLowerCase()] ?? whole)))
    .replace(/\s+/g, ' ')
    .trim();
}

/** Outdoors/tech events of raw open_events lines, the newest record per id; lines that do not parse are skipped. */
function labelledEvents(lines: Iterable<string>): Doc[] {
  const newest = new Map<string, { mtime: number; doc: Doc }>();
  for (const line of lines) {
    let r: { id?: unknown; mtime?: unknown; name?: unknown; description?: unknown; group?: { category?: { id?: unknown } } };
    try {
      r = JSON.parse(line) as typeof r;
    } catch {
      continue; // the capture's cut-off last line
    }
    const label = LABELS.get(Number(r.group?.category?.id));
    if (label === undefined || r.id === undefined) continue;
    const mtime = Number(r.mtime);
    const seen = newest.get(String(r.id));
    if (seen && seen.mtime >= mtime) continue;
    const description = typeof r.description === 'string' ? stripHtml(r.description) : '';
    newest.set(String(r.id), { mtime, doc: { label, text: `${typeof r.name === 'string' ? r.name : ''}\n${description}` } });
  }
  return [...newest.values()].map((v) => v.doc);
}

/** Share of (tech, outdoors) pairs where the tech event scores higher; ties count half. */
function rocAuc(docs: Doc[], scores: ArrayLike<number>): number {
  let wins = 0;
  let pairs = 0;
  docs.forEach((p, i) => {
    if (p.label !== 1) return;
    docs.forEach((n, j) => {
      if (n.label !== 0) return;
      pairs += 1;
      wins += scores[i]! > scores[j]! ? 1 : scores[i] === scores[j] ? 0.5 : 0;
    });
  });
  return wins / pairs;
}

let generated: Doc[];
let score: (texts: readonly string[]) => ArrayLike<number>;

beforeAll(() => {
  // The outdoors/tech events of 30,000 generated records (about 4,800 distinct events), and the
  // default model (default parameters) trained on them only
  generated = labelledEvents((function* () {
    for (const record of createGenerator({ seed: 1, count: 30_000 })) yield record.line;
  })());
  const params = paramsFromConfig(configSchema.parse({}).ml);
  score = scorer(trainTextModel(generated.map((d, i) => ({ eventId: String(i), groupId: i, label: d.label, text: d.text })), params));
}, 1_200_000);

function scoreOn(real: Doc[]): { accuracy: number; auc: number; recall: (label: number) => number } {
  const scores = score(real.map((d) => d.text));
  const predicted = real.map((_, i) => (scores[i]! > 0.5 ? 1 : 0));
  return {
    accuracy: real.filter((d, i) => predicted[i] === d.label).length / real.length,
    auc: rocAuc(real, scores),
    recall: (label) => real.filter((d, i) => d.label === label && predicted[i] === label).length / real.filter((d) => d.label === label).length,
  };
}

describe('transfer from generated to real descriptions', () => {
  it('a model trained only on generated events classifies the real capture: accuracy ≥ 0.85, ROC AUC ≥ 0.95, both classes recalled', () => {
    const real = labelledEvents(readFileSync(CAPTURE, 'utf8').split('\n'));
    expect(generated.length).toBeGreaterThan(4000);
    expect(real.filter((d) => d.label === 0).length).toBeGreaterThan(20);
    expect(real.filter((d) => d.label === 1).length).toBeGreaterThan(20);
    const m = scoreOn(real);
    expect(m.accuracy).toBeGreaterThanOrEqual(0.85);
    expect(m.auc).toBeGreaterThanOrEqual(0.95);
    expect(m.recall(0)).toBeGreaterThanOrEqual(0.7);
    expect(m.recall(1)).toBeGreaterThanOrEqual(0.7);
  });

  it('and the whole real corpus (6,499 events of 723 groups): accuracy ≥ 0.90, each class recalled ≥ 0.85', () => {
    const real = labelledEvents(gunzipSync(readFileSync(REST_CORPUS)).toString('utf8').split('\n'));
    expect(real.length).toBe(6499);
    const m = scoreOn(real);
    expect(m.accuracy).toBeGreaterThanOrEqual(0.9);
    expect(m.auc).toBeGreaterThanOrEqual(0.97);
    expect(m.recall(0)).toBeGreaterThanOrEqual(0.85);
    expect(m.recall(1)).toBeGreaterThanOrEqual(0.85);
  });
});
