import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { configSchema } from '../../src/config/schema.ts';
import { scorer, trainTextModel } from '../../src/ml/model.ts';
import { paramsFromConfig } from '../../src/ml/service.ts';
import { createGenerator } from '../../src/source/generator.ts';
import { CAPTURE } from '../helpers/fixtures.ts';

/**
 * Does what the model learns from generated text transfer to real Meetup descriptions? The model
 * is trained on generated events only (what `ml train` sees in the local profile) and scored on
 * the outdoors/tech events of the real capture, which the generator's vocabulary was not fitted
 * to. Labels, texts and metrics are computed here, independently of src/ml.
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

describe('transfer from generated to real descriptions', () => {
  it('a model trained only on generated events classifies the real capture: accuracy ≥ 0.85, ROC AUC ≥ 0.95, both classes recalled', () => {
    // Given the outdoors/tech events of 20,000 generated records (about 3,200 distinct events)
    // and the real capture's outdoors/tech events
    const generated = labelledEvents((function* () {
      for (const record of createGenerator({ seed: 1, count: 20_000 })) yield record.line;
    })());
    const real = labelledEvents(readFileSync(CAPTURE, 'utf8').split('\n'));
    expect(generated.length).toBeGreaterThan(2500);
    expect(real.filter((d) => d.label === 0).length).toBeGreaterThan(20);
    expect(real.filter((d) => d.label === 1).length).toBeGreaterThan(20);

    // When the embedded model (default parameters) trains on the generated events only
    const params = paramsFromConfig(configSchema.parse({}).ml);
    const model = trainTextModel(generated.map((d, i) => ({ eventId: String(i), groupId: 0, label: d.label, text: d.text })), params);
    const scores = scorer(model)(real.map((d) => d.text));

    // Then it ranks and classifies the real events well at the default 0.5 cut-off
    const predicted = real.map((_, i) => (scores[i]! > 0.5 ? 1 : 0));
    const accuracy = real.filter((d, i) => predicted[i] === d.label).length / real.length;
    const recall = (label: number) => real.filter((d, i) => d.label === label && predicted[i] === label).length / real.filter((d) => d.label === label).length;
    expect(accuracy).toBeGreaterThanOrEqual(0.85);
    expect(rocAuc(real, scores)).toBeGreaterThanOrEqual(0.95);
    expect(recall(0)).toBeGreaterThanOrEqual(0.7);
    expect(recall(1)).toBeGreaterThanOrEqual(0.7);
  });
});
