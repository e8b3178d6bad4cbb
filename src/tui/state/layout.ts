/**
 * Where things go for a terminal size. Pure, so the 80×24 layout is tested without rendering.
 * No borders: a title bar per pane saves the rows a small terminal does not have.
 */
export interface MonitorLayout {
  columns: number;
  rows: number;
  /** Short lake cells and fewer stream lines (under 100 columns or 32 rows). */
  compact: boolean;
  /** Width of the Stream pane (the Jobs pane gets the rest of the top row). */
  streamWidth: number;
  /** Content lines of the top row (Stream | Jobs), without the title. */
  topLines: number;
  /** Lake grid: columns of hours and hours per column. */
  gridColumns: number;
  gridRows: number;
  cellWidth: number;
  /** Content lines of the Logs pane, without the title. */
  logLines: number;
}

const HOURS = 24;
export const FULL_CELL = 34;
export const COMPACT_CELL = 22;

export function monitorLayout(columnsIn: number | undefined, rowsIn: number | undefined): MonitorLayout {
  const columns = Math.max(60, columnsIn || 80);
  const rows = Math.max(20, rowsIn || 24);
  const compact = columns < 100 || rows < 32;
  const cellWidth = compact ? COMPACT_CELL : FULL_CELL;
  const gridColumns = Math.max(1, Math.min(4, Math.floor((columns + 2) / (cellWidth + 2))));
  const gridRows = Math.ceil(HOURS / gridColumns);
  const topLines = compact ? 4 : 6;
  // header 1 + footer 2; titles: top 1, lake 1 (+1 detail line), logs 1.
  const used = 3 + (1 + topLines) + (1 + gridRows + 1) + 1;
  // One row spare: a frame as tall as the terminal makes Ink clear the screen on every update (flicker).
  const logLines = Math.max(1, rows - used - 1);
  const streamWidth = Math.min(60, Math.max(36, Math.floor(columns * 0.45)));
  return { columns, rows, compact, streamWidth, topLines, gridColumns, gridRows, cellWidth, logLines };
}
