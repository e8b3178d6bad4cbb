// Run by test/package/requires.test.ts (not by the suite: it ends in .spec.ts) with tmux off PATH.
import { expect, it } from 'vitest';
import { describeWith } from '../../helpers/requires.ts';

describeWith(['tmux'], 'a suite that needs tmux', () => {
  it('would run with tmux', () => {
    expect(true).toBe(true);
  });
});
