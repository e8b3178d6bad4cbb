import { Box, Text } from 'ink';
import { clip } from '../format.ts';
import type { LakeHour, LakeView, PaneData } from '../model/types.ts';
import { gridRowsOf, hourDetail, hourTone, lakeCell } from '../state/lake-view.ts';
import { useColor } from '../theme.ts';
import { PaneTitle } from './PaneTitle.tsx';

export interface LakePaneProps {
  pane: PaneData<LakeView>;
  width: number;
  gridRows: number;
  cellWidth: number;
  compact: boolean;
  focused: boolean;
  selected: LakeHour | undefined;
  nowMs: number;
}

/** Lake: the last 24 hours as a grid (raw files, records, bytes, ETL state, late/missing), and the selected hour's detail. */
export function LakePane({ pane, width, gridRows, cellWidth, compact, focused, selected, nowMs }: LakePaneProps) {
  const color = useColor();
  const hours = pane.data?.hours ?? [];
  const rows = gridRowsOf(hours, gridRows);
  const legend = compact ? 'hh state rec bytes  !late ?missing' : 'hh state files records bytes';
  return (
    <Box flexDirection="column" width={width}>
      <PaneTitle title="Lake · last 24 h (UTC)" extra={legend} width={width} focused={focused} pane={pane} nowMs={nowMs} />
      {rows.map((row, r) => (
        <Text key={r}>
          {row.map((hour, c) => {
            const isSelected = hour.hour === selected?.hour;
            return (
              <Text key={hour.hour} color={color(hourTone(hour))} inverse={isSelected && focused}>
                {(c > 0 ? '  ' : '') + lakeCell(hour, isSelected, compact, cellWidth)}
              </Text>
            );
          })}
        </Text>
      ))}
      <Text color={selected ? color(hourTone(selected)) : undefined}>{clip(selected ? hourDetail(selected) : '', width) || ' '}</Text>
    </Box>
  );
}
