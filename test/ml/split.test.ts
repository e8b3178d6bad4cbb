import { describe, expect, it } from 'vitest';
import type { LabelledDoc } from '../../src/ml/labels.ts';
import { applySplit, splitByGroup } from '../../src/ml/split.ts';
import { corpusDocs, generateCorpus } from '../helpers/ml-corpus.ts';

const docs = corpusDocs(generateCorpus({ events: 3000, seed: 11 }));

function techShare(list: readonly LabelledDoc[]): number {
  return list.filter((d) => d.label === 1).length / list.length;
}

describe('splitByGroup', () => {
  it('puts every group on exactly one side and every event on the side of its group', () => {
    // When the generated events are split by group
    const split = splitByGroup(docs, 0.2, 42);
    const { train, test } = applySplit(docs, split);
    // Then no group is on both sides, all groups are somewhere, and no event is lost or duplicated
    const trainGroups = new Set(train.map((d) => d.groupId));
    const testGroups = new Set(test.map((d) => d.groupId));
    expect([...trainGroups].filter((g) => testGroups.has(g))).toEqual([]);
    expect(new Set([...split.trainGroups, ...split.testGroups])).toEqual(new Set(docs.map((d) => d.groupId)));
    expect(train.length + test.length).toBe(docs.length);
    expect(new Set([...train, ...test].map((d) => d.eventId)).size).toBe(docs.length);
  });

  it('is stratified: both classes send about the test fraction, so class shares match on both sides', () => {
    const { train, test } = applySplit(docs, splitByGroup(docs, 0.2, 42));
    for (const label of [0, 1]) {
      const all = docs.filter((d) => d.label === label).length;
      const inTest = test.filter((d) => d.label === label).length;
      expect(Math.abs(inTest / all - 0.2)).toBeLessThan(0.02);
    }
    expect(Math.abs(techShare(train) - techShare(test))).toBeLessThan(0.03);
  });

  it('is reproducible for a seed and changes with the seed', () => {
    expect(splitByGroup(docs, 0.2, 42)).toEqual(splitByGroup([...docs].reverse(), 0.2, 42));
    expect(splitByGroup(docs, 0.2, 43).testGroups).not.toEqual(splitByGroup(docs, 0.2, 42).testGroups);
  });

  it('keeps a class with a single group for training, and one group of each class for training', () => {
    // Given one outdoors group and two tech groups
    const tiny: LabelledDoc[] = [
      { eventId: 'a', groupId: 1, label: 0, text: '' },
      { eventId: 'b', groupId: 2, label: 1, text: '' },
      { eventId: 'c', groupId: 3, label: 1, text: '' },
    ];
    // When split with a large test fraction
    const split = splitByGroup(tiny, 0.9, 1);
    // Then the lone outdoors group trains, and exactly one tech group is tested
    expect(split.trainGroups).toContain(1);
    expect(split.testGroups).toHaveLength(1);
    expect([2, 3]).toContain(split.testGroups[0]);
  });
});
