import { Box, Text } from 'ink';
import { fit } from '../format.ts';
import type { AlertView, PaneData } from '../model/types.ts';
import { useColor } from '../theme.ts';

/** At most this many banner lines; more alerts are summed up in the last one. */
export const BANNER_MAX_LINES = 3;

interface BannerLine {
  text: string;
  /** An alert (red), or word that the rules cannot be evaluated (yellow). */
  problem: boolean;
}

/**
 * The banner's lines for this data: one per firing alert, at most three (with more, the last says
 * how many more and where to see them); when the last evaluation failed, a line saying so after
 * the alerts last evaluated — so a missing banner always means "evaluated, and quiet".
 */
export function bannerLines(pane: PaneData<AlertView> | undefined): BannerLine[] {
  if (!pane) return [];
  const alerts = (pane.data?.alerts ?? []).map((a) => ({ text: `ALERT ${a.rule}: ${a.message}`, problem: false }));
  const failed = pane.stale && pane.error ? [{ text: `alerts cannot be evaluated: ${pane.error}${alerts.length > 0 ? '; above: the last verdict' : ''}`, problem: true }] : [];
  const room = BANNER_MAX_LINES - failed.length;
  const shown = alerts.length <= room ? alerts : [...alerts.slice(0, room - 1), { text: `… and ${alerts.length - room + 1} more alerts: \`openevents alerts\` lists them all`, problem: false }];
  return [...shown, ...failed];
}

/** The lines the banner takes (0 when all is quiet), so the layout can give them up. */
export function alertBannerLines(pane: PaneData<AlertView> | undefined): number {
  return bannerLines(pane).length;
}

export interface AlertBannerProps {
  pane: PaneData<AlertView> | undefined;
  width: number;
}

/** Firing alerts above the panes, in reverse video (red where colours are on); nothing when all is quiet. */
export function AlertBanner({ pane, width }: AlertBannerProps) {
  const color = useColor();
  const lines = bannerLines(pane);
  if (lines.length === 0) return null;
  return (
    <Box flexDirection="column" width={width}>
      {lines.map((line, i) => (
        <Text key={i} inverse bold color={color(line.problem ? 'yellow' : 'red')}>
          {fit(line.text, width)}
        </Text>
      ))}
    </Box>
  );
}
