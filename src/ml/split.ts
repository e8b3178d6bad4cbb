import type { LabelledDoc } from './labels.ts';
import { Random, mix } from './random.ts';

/** Which groups (and so which events) are for training and which for testing. */
export interface GroupSplit {
  trainGroups: number[];
  testGroups: number[];
}

/**
 * Splits by group, seeded and stratified by label: every event of a group lands on the same side
 * (events of one group share wording, so an event-level split leaks and inflates scores), and
 * each class sends about `testFraction` of its events to the test side.
 *
 * Per class, the groups are shuffled with the seed and taken in that order into the test side
 * while that brings the test share closer to the target; a class with two or more groups always
 * has at least one group on each side. A group whose events carry both labels (its category
 * changed) is assigned by its majority label.
 */
export function splitByGroup(docs: readonly LabelledDoc[], testFraction: number, seed: number): GroupSplit {
  const sizes = groupSizes(docs);
  const trainGroups: number[] = [];
  const testGroups: number[] = [];
  for (const label of [0, 1] as const) {
    const groups = [...sizes.entries()]
      .filter(([, c]) => (c[1] > c[0] ? 1 : 0) === label)
      .map(([id, c]) => ({ id, size: c[0] + c[1] }))
      .sort((a, b) => a.id - b.id);
    new Random(mix(seed, label)).shuffle(groups);
    const total = groups.reduce((s, g) => s + g.size, 0);
    const target = total * testFraction;
    let taken = 0;
    const test = new Set<number>();
    for (const group of groups) {
      if (test.size === groups.length - 1) break; // keep at least one group for training
      if (test.size === 0 || Math.abs(taken + group.size - target) < Math.abs(taken - target)) {
        test.add(group.id);
        taken += group.size;
      }
    }
    if (groups.length < 2) test.clear();
    for (const group of groups) (test.has(group.id) ? testGroups : trainGroups).push(group.id);
  }
  return { trainGroups: trainGroups.sort((a, b) => a - b), testGroups: testGroups.sort((a, b) => a - b) };
}

/** The docs of each side of a split. */
export function applySplit(docs: readonly LabelledDoc[], split: GroupSplit): { train: LabelledDoc[]; test: LabelledDoc[] } {
  const test = new Set(split.testGroups);
  const out = { train: [] as LabelledDoc[], test: [] as LabelledDoc[] };
  for (const doc of docs) (test.has(doc.groupId) ? out.test : out.train).push(doc);
  return out;
}

/**
 * Group k-fold, stratified: the fold (0 … k−1) of each doc, every event of a group in one fold.
 * Per class, the groups are shuffled with the seed, then taken largest first (a stable sort, so
 * ties keep the shuffled order) into the fold holding the fewest events of that class so far —
 * folds come out about the same size and with about the same class mix.
 */
export function groupFolds(docs: readonly LabelledDoc[], k: number, seed: number): Int32Array {
  const sizes = groupSizes(docs);
  const foldOf = new Map<number, number>();
  for (const label of [0, 1] as const) {
    const groups = [...sizes.entries()]
      .filter(([, c]) => (c[1] > c[0] ? 1 : 0) === label)
      .map(([id, c]) => ({ id, size: c[0] + c[1] }))
      .sort((a, b) => a.id - b.id);
    new Random(mix(seed, label, 0xf01d)).shuffle(groups);
    groups.sort((a, b) => b.size - a.size);
    const load = new Array<number>(k).fill(0);
    for (const group of groups) {
      let best = 0;
      for (let f = 1; f < k; f++) if (load[f]! < load[best]!) best = f;
      foldOf.set(group.id, best);
      load[best]! += group.size;
    }
  }
  return Int32Array.from(docs, (d) => foldOf.get(d.groupId)!);
}

/** Events per group and label: group id → [outdoors, tech]. */
function groupSizes(docs: readonly LabelledDoc[]): Map<number, [number, number]> {
  const sizes = new Map<number, [number, number]>();
  for (const doc of docs) {
    const counts = sizes.get(doc.groupId) ?? [0, 0];
    counts[doc.label]++;
    sizes.set(doc.groupId, counts);
  }
  return sizes;
}
