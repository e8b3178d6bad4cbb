import path from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { OPENEVENTS } from '../helpers/cli.ts';
import { describeWith } from '../helpers/requires.ts';
import { tempDirs } from '../helpers/temp.ts';
import { hourBefore, writeEtlHour, writeRawHour } from '../helpers/tui-lake.ts';
import { createTmux } from '../helpers/tui-tmux.ts';

const tmp = tempDirs('oe-color-');
/** A foreground colour in an SGR sequence (bold, dim and inverse are not colours). */
const COLOUR = /\u001b\[[0-9;]*(3[0-7]|9[0-7]|38;)[0-9;]*m/;

describeWith(['tmux'], 'colours on a terminal', () => {
  const lake = path.join(tmp(), 'lake');
  const now = Date.now();
  writeRawHour(lake, hourBefore(now, 2), 10, { manifest: true });
  writeEtlHour(lake, hourBefore(now, 2), 'failed', 'boom');
  const tmux = createTmux(`oe-color-${process.pid}`);
  afterAll(() => tmux.kill());

  /** The monitor's screen with its escapes, started with `flags` and without NO_COLOR in the environment. */
  const screen = async (flags: string): Promise<string> => {
    tmux.start(`env -u NO_COLOR -u FORCE_COLOR ${process.execPath} ${OPENEVENTS} ${flags} monitor --lake ${lake}; sleep 60`, 100, 30);
    await tmux.waitFor((s) => s.includes('FAIL'), 'the monitor with the failed hour');
    const raw = tmux.captureEscapes();
    tmux.send('q');
    tmux.kill();
    return raw;
  };

  it('--no-color turns them off as NO_COLOR does; without it the monitor has them', async () => {
    expect(await screen('')).toMatch(COLOUR);
    expect(await screen('--no-color')).not.toMatch(COLOUR);
  });
});
