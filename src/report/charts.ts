import { readFileSync } from 'node:fs';
import path from 'node:path';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { TopLevelSpec } from 'vega-lite';
import type { Count, GroupLocation, HourCount, HourFreshness, ModelMetrics } from './types.ts';
import { escapeHtml } from './escape.ts';

/**
 * The report's charts as Vega-Lite specs, and their rendering to inline SVG at build time
 * (Vega-Lite → Vega → a headless View → SVG). Vega escapes the text it writes into SVG, so
 * stream-derived labels are safe inside the markup it returns.
 */

const ACCENT = '#4f7cac';
const INK = '#334155';
const MUTED = '#64748b';
const RULE = '#e2e8f0';
const FONT = 'system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif';

/** The land outline of the world map (world-atlas 110m, committed under reports/assets). */
const WORLD_FILE = path.resolve(import.meta.dirname, '../../reports/assets/world-land-110m.json');
let world: unknown;
function worldTopology(): unknown {
  world ??= JSON.parse(readFileSync(WORLD_FILE, 'utf8'));
  return world;
}

/** The shared look: calm greys, one accent colour, no chart chrome the page already gives. */
const config = {
  font: FONT,
  background: 'transparent',
  // The SVG root is role="img" with its own title and description; per-mark ARIA would only add bytes.
  aria: false,
  view: { stroke: null },
  axis: {
    labelColor: MUTED,
    titleColor: MUTED,
    labelFontSize: 11,
    titleFontSize: 11,
    titleFontWeight: 500,
    gridColor: RULE,
    domainColor: '#cbd5e1',
    tickColor: '#cbd5e1',
  },
  legend: { labelColor: MUTED, titleColor: MUTED, labelFontSize: 11, titleFontSize: 11, titleFontWeight: 500 },
  bar: { color: ACCENT },
  line: { color: ACCENT },
  area: { color: ACCENT },
  text: { color: INK, fontSize: 11 },
} as const;

function spec(body: Record<string, unknown>): TopLevelSpec {
  return { $schema: 'https://vega.github.io/schema/vega-lite/v6.json', config, ...body } as unknown as TopLevelSpec;
}

/** A horizontal top-N bar chart; the rows arrive sorted, largest first, and keep that order. */
export function barChartSpec(
  rows: Count[],
  options: { unit: string; width?: number; format?: string; labelWidth?: number } = { unit: 'unique events' },
): TopLevelSpec {
  const format = options.format ?? ',d';
  // A fixed label column, so every top-10 chart has the same geometry whatever its labels.
  const labelWidth = options.labelWidth ?? 166;
  return spec({
    width: options.width ?? 250,
    height: { step: 22 },
    data: { values: rows },
    encoding: {
      y: { field: 'label', type: 'nominal', sort: null, axis: { title: null, labelLimit: labelWidth - 6, minExtent: labelWidth, maxExtent: labelWidth, labelFontSize: 11.5, labelColor: INK, ticks: false, domain: false, labelPadding: 6 } },
      x: { field: 'count', type: 'quantitative', axis: { title: options.unit, tickCount: 4, ...(format === ',d' ? { tickMinStep: 1 } : {}), format: format === ',d' ? countFormat(rows.map((r) => r.count)) : format, grid: true } },
    },
    layer: [
      { mark: { type: 'bar', cornerRadiusEnd: 3, height: { band: 0.72 } } },
      { mark: { type: 'text', align: 'left', baseline: 'middle', dx: 4, color: MUTED }, encoding: { text: { field: 'count', type: 'quantitative', format } } },
    ],
  });
}

/** Records received per UTC arrival hour (or day): one bar each, so a single hour reads as well as weeks. */
export function eventsPerHourSpec(rows: HourCount[], unit: 'hour' | 'day' = 'hour'): TopLevelSpec {
  const HOUR = unit === 'day' ? 86_400_000 : 3_600_000;
  const starts = rows.map((r) => Date.parse(`${r.hour}:00:00Z`));
  const first = Math.min(...starts);
  const last = Math.max(...starts) + HOUR;
  // Fewer than a day of hours: centre them on a day-wide axis rather than stretch one bar across it.
  const pad = Math.max(0, (24 * 3_600_000 - (last - first)) / 2);
  return spec({
    width: 600,
    height: 200,
    data: {
      values: [
        ...rows.map((r, i) => ({ t: starts[i], t2: (starts[i] ?? 0) + HOUR, events: r.events })),
        // Zero-height bars at the padded ends widen the time scale (an explicit domain clashes with x2).
        ...(pad > 0 ? [{ t: first - pad, t2: first - pad, events: 0 }, { t: last + pad, t2: last + pad, events: 0 }] : []),
      ],
    },
    mark: { type: 'rect', color: ACCENT, stroke: '#ffffff', strokeWidth: rows.length <= 200 ? 0.75 : 0 },
    encoding: {
      x: {
        field: 't',
        type: 'temporal',
        scale: { type: 'utc' },
        axis: { title: `arrival ${unit} (UTC)`, grid: false, labelOverlap: true },
      },
      x2: { field: 't2' },
      y: { field: 'events', type: 'quantitative', axis: { title: 'records received', tickCount: 4, tickMinStep: 1, format: countFormat(rows.map((r) => r.events)) } },
      y2: { datum: 0 },
    },
  });
}

/** Axis number format: plain thousands separators, SI prefixes only for large counts. */
function countFormat(values: number[]): string {
  return Math.max(0, ...values) >= 100_000 ? '~s' : ',d';
}

/** Unique events by status. */
export function statusMixSpec(rows: Count[]): TopLevelSpec {
  return barChartSpec(rows, { unit: 'unique events', width: 200, labelWidth: 100 });
}

/** Group locations on an Equal Earth world: land outline, graticule, one circle per location cell. */
export function worldMapSpec(rows: GroupLocation[]): TopLevelSpec {
  const max = Math.max(1, ...rows.map((r) => r.events));
  return spec({
    width: 860,
    height: 420,
    // Fitted to the whole globe, not to where the points happen to be.
    projection: { type: 'equalEarth', fit: { type: 'Sphere' } },
    layer: [
      { data: { sphere: true }, mark: { type: 'geoshape', fill: '#f1f5f9', stroke: RULE, strokeWidth: 0.75 } },
      { data: { graticule: { step: [30, 30] } }, mark: { type: 'geoshape', filled: false, stroke: RULE, strokeWidth: 0.5 } },
      {
        data: { values: worldTopology(), format: { type: 'topojson', feature: 'land' } },
        mark: { type: 'geoshape', fill: '#dbe3ec', stroke: '#ffffff', strokeWidth: 0.5 },
      },
      {
        data: { values: rows },
        mark: { type: 'circle', color: '#d9663c', opacity: 0.55, stroke: '#ffffff', strokeWidth: 0.4 },
        encoding: {
          longitude: { field: 'lon', type: 'quantitative' },
          latitude: { field: 'lat', type: 'quantitative' },
          size: { field: 'events', type: 'quantitative', scale: { type: 'sqrt', range: [8, 420] }, legend: { title: 'unique events', orient: 'right', format: '~s', values: legendSteps(max), symbolFillColor: '#d9663c', symbolStrokeColor: '#ffffff' } },
        },
      },
    ],
  });
}

/** Up to three round legend values below `max`, e.g. 1,000 / 5,000 / 10,000. */
function legendSteps(max: number): number[] {
  const unit = 10 ** Math.floor(Math.log10(max));
  const top = Math.floor(max / unit) * unit;
  return [...new Set([Math.max(1, Math.round(top / 10)), Math.round(top / 2), top])].filter((v) => v > 0);
}

/**
 * How long after each hour began its raw data last arrived and the ETL finished it, in minutes,
 * hours or days as the data needs (a replayed archive arrives years after its hours).
 */
export function freshnessSpec(rows: HourFreshness[]): TopLevelSpec {
  const values: Array<{ t: string; series: string; delay: number }> = [];
  for (const r of rows) {
    const start = Date.parse(`${r.hour}:00:00Z`);
    if (r.rawArrivedAt) values.push({ t: `${r.hour}:00:00Z`, series: 'raw arrived', delay: Date.parse(r.rawArrivedAt) - start });
    if (r.etlDoneAt) values.push({ t: `${r.hour}:00:00Z`, series: 'ETL done', delay: Date.parse(r.etlDoneAt) - start });
  }
  const delays = values.map((v) => v.delay);
  const max = Math.max(0, ...delays);
  const [unit, ms] = max <= 6 * 3_600_000 ? ['minutes', 60_000] : max <= 7 * 86_400_000 ? ['hours', 3_600_000] : ['days', 86_400_000];
  // One late hour (a reprocessing, a backfill) would flatten every other point on a linear scale.
  const positive = delays.filter((d) => d > 0);
  const spread = positive.length > 1 && Math.max(...positive) / Math.min(...positive) > 50;
  return spec({
    width: 720,
    height: 200,
    data: { values: values.map((v) => ({ ...v, delay: v.delay / ms })) },
    encoding: {
      x: { field: 't', type: 'temporal', scale: { type: 'utc' }, axis: { title: 'arrival hour (UTC)', grid: false, labelOverlap: true } },
      y: { field: 'delay', type: 'quantitative', scale: spread ? { type: 'symlog' } : { zero: true }, axis: { title: `${unit} after the hour began`, tickCount: 5, format: ',~r' } },
      color: { field: 'series', type: 'nominal', scale: { domain: ['raw arrived', 'ETL done'], range: [ACCENT, '#d9663c'] }, legend: { title: null, orient: 'top' } },
    },
    layer: [{ mark: { type: 'line', strokeWidth: 1.5, opacity: 0.7 } }, { mark: { type: 'point', filled: true, size: 26, opacity: 0.9 } }],
  });
}

/** The confusion matrix as a heat map with counts; rows are the actual class. */
export function confusionSpec(cm: ModelMetrics['metrics']['confusionMatrix']): TopLevelSpec {
  const values: Array<{ actual: string; predicted: string; count: number }> = [];
  cm.labels.forEach((actual, i) => cm.labels.forEach((predicted, j) => values.push({ actual, predicted, count: cm.matrix[i]?.[j] ?? 0 })));
  const max = Math.max(1, ...values.map((v) => v.count));
  return spec({
    width: { step: 92 },
    height: { step: 56 },
    data: { values },
    encoding: {
      x: { field: 'predicted', type: 'nominal', sort: cm.labels, axis: { title: 'predicted', orient: 'top', labelAngle: 0, ticks: false, domain: false, labelColor: INK } },
      y: { field: 'actual', type: 'nominal', sort: cm.labels, axis: { title: 'actual', ticks: false, domain: false, labelColor: INK } },
    },
    layer: [
      { mark: { type: 'rect', cornerRadius: 3 }, encoding: { color: { field: 'count', type: 'quantitative', scale: { range: ['#eef3f8', ACCENT], domain: [0, max] }, legend: null } } },
      {
        mark: { type: 'text', fontSize: 13, fontWeight: 600 },
        encoding: {
          text: { field: 'count', type: 'quantitative', format: ',d' },
          color: { condition: { test: `datum.count > ${max / 2}`, value: '#ffffff' }, value: INK },
        },
      },
    ],
  });
}

/** The model's most informative words by importance. */
export function topWordsSpec(words: ModelMetrics['topWords']): TopLevelSpec {
  return barChartSpec(
    words.map((w) => ({ label: w.word, count: w.importance })),
    { unit: 'importance', width: 260, format: '.3f', labelWidth: 110 },
  );
}

/** A chart rendered for the page: responsive inline SVG with its own accessible name. */
export interface RenderedChart {
  svg: string;
}

/**
 * Renders a spec to inline SVG that keeps its natural size but shrinks with its container (the
 * page's CSS sets max-width: 100%, height: auto), and names it (role="img", <title>, <desc>, aria-labelledby) for assistive tech.
 */
export async function renderChart(chart: TopLevelSpec, id: string, title: string, description: string): Promise<string> {
  // Services never print: Vega-Lite's warnings (console.warn by default) are dropped; errors still throw.
  const view = new vega.View(vega.parse(vl.compile(chart, { logger: vega.logger(vega.Error) }).spec), { renderer: 'none' });
  try {
    const svg = await view.toSVG();
    const open = /^<svg\b[^>]*>/.exec(svg);
    if (!open) throw new Error('vega returned no <svg> root');
    const viewBox = /viewBox="([^"]*)"/.exec(open[0])?.[1] ?? '';
    const width = /\bwidth="([\d.]+)"/.exec(open[0])?.[1] ?? '';
    const height = /\bheight="([\d.]+)"/.exec(open[0])?.[1] ?? '';
    // Natural size on wide screens, scaled down (by CSS max-width) on narrow ones.
    const head =
      `<svg xmlns="http://www.w3.org/2000/svg" class="chart" width="${width}" height="${height}" viewBox="${escapeHtml(viewBox)}" role="img" ` +
      `aria-labelledby="${id}-t ${id}-d" preserveAspectRatio="xMidYMin meet">` +
      `<title id="${id}-t">${escapeHtml(title)}</title><desc id="${id}-d">${escapeHtml(description)}</desc>`;
    // Vega numbers its clip paths per view (clip1, clip2...): prefix them so charts on one page
    // cannot pick up each other's definitions.
    const body = svg.slice(open[0].length).replace(/(<[a-zA-Z][^<>]*\s)id="([^"<>]+)"/g, `$1id="${id}-$2"`)
      .replace(/url\(#([^)<>"]+)\)/g, `url(#${id}-$1)`);
    return head + body;
  } finally {
    view.finalize();
  }
}
