import { Box, Text } from 'ink';
import { fit } from '../format.ts';
import type { AlertView, PaneData } from '../model/types.ts';
import { useColor } from '../theme.ts';

/** At most this many banner lines; more alerts are summed up in the last one. */
export const BANNER_MAX_LINES = 3;

/** The lines the banner takes for this data (0 when nothing fires), so the layout can give them up. */
export function alertBannerLines(pane: PaneData<AlertView> | undefined): number {
  if (!pane) return 0;
  const n = pane.data?.alerts.length ?? 0;
  if (n === 0) return pane.stale && pane.error ? 1 : 0;
  return Math.min(n, BANNER_MAX_LINES);
}

export interface AlertBannerProps {
  pane: PaneData<AlertView> | undefined;
  width: number;
}

/**
 * Firing alerts above the panes, in reverse video (red where colours are on): one line each, up
 * to three; with more, the third says how many more and where to see them. Nothing when all is
 * quiet. When the rules cannot be evaluated it says so, so a silent banner always means quiet.
 */
export function AlertBanner({ pane, width }: AlertBannerProps) {
  const color = useColor();
  const lines = alertBannerLines(pane);
  if (!pane || lines === 0) return null;
  const alerts = pane.data?.alerts ?? [];
  const texts =
    alerts.length === 0
      ? [`alerts cannot be evaluated: ${pane.error ?? 'unknown error'}`]
      : alerts.length <= BANNER_MAX_LINES
        ? alerts.map((a) => `ALERT ${a.rule}: ${a.message}`)
        : [...alerts.slice(0, BANNER_MAX_LINES - 1).map((a) => `ALERT ${a.rule}: ${a.message}`), `… and ${alerts.length - BANNER_MAX_LINES + 1} more alerts: \`openevents alerts\` lists them all`];
  return (
    <Box flexDirection="column" width={width}>
      {texts.map((text, i) => (
        <Text key={i} inverse bold color={color(alerts.length === 0 ? 'yellow' : 'red')}>
          {fit(text, width)}
        </Text>
      ))}
    </Box>
  );
}
