import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { TopLevelSpec } from 'vega-lite';
import {
  barChartSpec,
  confusionSpec,
  eventsPerHourSpec,
  freshnessSpec,
  renderChart,
  statusMixSpec,
  topWordsSpec,
  worldMapSpec,
} from './charts.ts';
import { html, trusted, type Html } from './escape.ts';
import { TOP_CHARTS, type CrossValidation, type ModelMetrics, type ReportData } from './types.ts';

/** The stylesheet inlined into every page (reports/report.css). */
const CSS = readFileSync(path.resolve(import.meta.dirname, '../../reports/report.css'), 'utf8');

/**
 * The page's Content-Security-Policy: nothing may load or run — no scripts, no fetches, no
 * fonts, no frames; only the one inline stylesheet, pinned by its hash.
 */
export function contentSecurityPolicy(css: string = CSS): string {
  const hash = createHash('sha256').update(css, 'utf8').digest('base64');
  return `default-src 'none'; style-src 'sha256-${hash}'; img-src data:; base-uri 'none'; form-action 'none'`;
}

/**
 * Renders the report as one self-contained HTML page: inline CSS, charts as inline SVG, no
 * scripts and no external resources. Every value from the data is escaped. Pure apart from
 * reading the committed stylesheet and map outline.
 */
export async function renderReport(data: ReportData): Promise<string> {
  const t = data.totals;
  const kpis: Array<[string, number, boolean?]> = [
    ['events received', t.eventsReceived],
    ['unique events', t.uniqueEvents],
    ['groups', t.groups],
    ['venues', t.venues],
    ['countries', t.countries],
    ['quarantined records', t.quarantined, t.quarantined > 0],
  ];

  const topFigures: Html[] = [];
  for (const { key, title, column } of TOP_CHARTS) {
    const rows = data.top[key].map((r) => ({ ...r, label: clip(r.label) }));
    topFigures.push(
      await figure({
        id: `top-${key}`,
        title,
        note: 'top 10 by unique events',
        spec: rows.length ? barChartSpec(rows) : undefined,
        description: `Top ${rows.length} ${title.toLowerCase()} by unique events: ${rows.map((r) => `${r.label} (${fmt(r.count)})`).join(', ')}.`,
        table: { head: [column, 'unique events'], rows: rows.map((r) => [r.label, r.count]) },
      }),
    );
  }

  const unit = data.activityUnit;
  const bucketLabel = (hour: string): string => (unit === 'day' ? hour.slice(0, 10) : hourLabel(hour));
  const peak = data.eventsPerHour.reduce((best, h) => (h.events > (best?.events ?? -1) ? h : best), data.eventsPerHour[0]);
  const perHour = await figure({
    id: 'events-per-hour',
    title: `Events per ${unit}`,
    note: `records received per UTC arrival ${unit}`,
    spec: data.eventsPerHour.length ? eventsPerHourSpec(data.eventsPerHour, unit) : undefined,
    description:
      `Records received in each of ${data.eventsPerHour.length} ${unit}s` + (peak ? `; the busiest ${unit} was ${bucketLabel(peak.hour)} with ${fmt(peak.events)}.` : '.'),
    table: { head: [`${unit} (UTC)`, 'records'], rows: data.eventsPerHour.map((h) => [bucketLabel(h.hour), h.events]) },
  });
  const status = await figure({
    id: 'status-mix',
    title: 'Status mix',
    note: 'unique events by current status',
    spec: data.statusMix.length ? statusMixSpec(data.statusMix) : undefined,
    description: `Unique events by status: ${data.statusMix.map((s) => `${s.label} ${fmt(s.count)}`).join(', ')}.`,
    table: { head: ['status', 'unique events'], rows: data.statusMix.map((s) => [s.label, s.count]) },
  });
  const mapped = data.groupLocations.reduce((n, g) => n + g.groups, 0);
  const map = await figure({
    id: 'group-map',
    title: 'Where the groups are',
    note: 'group locations from their coordinates; circle area ∝ unique events',
    className: 'map',
    spec: data.groupLocations.length ? worldMapSpec(data.groupLocations) : undefined,
    description: `World map with ${fmt(mapped)} groups at ${fmt(data.groupLocations.length)} locations.`,
    table: {
      head: ['latitude', 'longitude', 'groups', 'unique events'],
      rows: [...data.groupLocations].sort((a, b) => b.events - a.events).slice(0, 25).map((g) => [g.lat, g.lon, g.groups, g.events]),
    },
  });
  const fresh = await figure({
    id: 'freshness',
    title: 'Data freshness',
    note:
      'time from the start of each hour until its raw data last arrived and until the ETL finished it' +
      (data.freshnessOmitted ? `; the latest ${data.freshness.length} hours (${fmt(data.freshnessOmitted)} older left out)` : ''),
    spec: data.freshness.length ? freshnessSpec(data.freshness) : undefined,
    description: `Raw arrival and ETL completion for ${data.freshness.length} hours; ${data.freshness.filter((f) => !f.etlDoneAt).length} not yet processed.`,
    table: {
      head: ['hour (UTC)', 'raw arrived', 'ETL done'],
      rows: data.freshness.map((f) => [hourLabel(f.hour), timeLabel(f.rawArrivedAt), timeLabel(f.etlDoneAt)]),
    },
  });

  const range =
    data.coveredFrom && data.coveredTo
      ? html`Covering <strong><time datetime="${data.coveredFrom}:00Z">${hourLabel(data.coveredFrom)}</time></strong> to <strong><time datetime="${data.coveredTo}:59Z">${hourLabel(data.coveredTo, 59)}</time></strong> UTC`
      : html`No data processed yet`;
  const updated = data.lastUpdate
    ? html` · last updated <strong><time datetime="${data.lastUpdate}">${timeLabel(data.lastUpdate)}</time></strong>`
    : html``;
  const titleRange = data.coveredFrom && data.coveredTo ? ` — ${data.coveredFrom.slice(0, 10)} to ${data.coveredTo.slice(0, 10)}` : '';

  const page = html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${trusted(contentSecurityPolicy())}">
<meta name="referrer" content="no-referrer">
<meta name="generator" content="openevents">
<title>Meetup open events${titleRange}</title>
<style>${trusted(CSS)}</style>
</head>
<body>
<header class="top"><div class="wrap">
<p class="eyebrow">openevents dashboard</p>
<h1>Meetup open events</h1>
<p class="meta">${range}${updated}</p>
</div></header>
<main class="wrap">
<section aria-labelledby="h-totals"><h2 id="h-totals" class="sr-only">Totals</h2>
<ul class="kpis">${kpis.map(([label, value, warn]) => html`<li class="kpi${warn ? ' warn' : ''}"><span class="value">${fmt(value)}</span><span class="label">${label}</span></li>`)}</ul>
</section>
<section aria-labelledby="h-activity"><h2 id="h-activity">Activity</h2>
<div class="grid activity">${perHour}${status}</div>
</section>
<section aria-labelledby="h-top"><h2 id="h-top">Top 10 <span class="sub">counted over unique events</span></h2>
<div class="grid">${topFigures}</div>
</section>
<section aria-labelledby="h-map"><h2 id="h-map">Groups around the world</h2>
${map}
</section>
<section aria-labelledby="h-fresh"><h2 id="h-fresh">Pipeline</h2>
${fresh}
</section>
<section aria-labelledby="h-model"><h2 id="h-model">Classifier <span class="sub">outdoors-adventure vs tech, from event descriptions</span></h2>
${await modelSection(data.model, data.modelNote)}
${cvSection(data.crossValidation ?? [])}
</section>
</main>
<footer><div class="wrap">Built <time datetime="${data.generatedAt}">${timeLabel(data.generatedAt)}</time> by openevents. A self-contained page: no scripts, nothing fetched.</div></footer>
</body>
</html>
`;
  return page.value;
}

async function modelSection(model: ModelMetrics | null, note: string | undefined): Promise<Html> {
  if (!model) {
    return html`<div class="card"><p class="empty">No model trained yet. Run <code>openevents ml train</code> to train the classifier; its metrics appear here on the next build.${note ? html`<br>${note}` : ''}</p></div>`;
  }
  const m = model.metrics;
  const classes = Object.entries(m.perClass);
  const macroF1 = classes.length ? classes.reduce((s, [, c]) => s + c.f1, 0) / classes.length : NaN;
  const tiles: Array<[string, string]> = [
    ['accuracy', pct(m.accuracy)],
    ['ROC AUC', m.rocAuc === null ? '–' : m.rocAuc.toFixed(3)],
    ['macro F1', Number.isFinite(macroF1) ? macroF1.toFixed(3) : '–'],
    ['training rows', fmt(model.data.trainRows)],
    ['test rows', fmt(model.data.testRows)],
  ];
  const cm = await figure({
    id: 'confusion',
    title: 'Confusion matrix',
    note: 'test set; rows are the actual class',
    spec: m.confusionMatrix.labels.length ? confusionSpec(m.confusionMatrix) : undefined,
    description: `Confusion matrix over ${m.confusionMatrix.labels.join(', ')}: ${m.confusionMatrix.labels
      .map((a, i) => m.confusionMatrix.labels.map((p, j) => `${a} predicted ${p}: ${m.confusionMatrix.matrix[i]?.[j] ?? 0}`).join('; '))
      .join('; ')}.`,
    table: {
      head: ['actual \\ predicted', ...m.confusionMatrix.labels],
      rows: m.confusionMatrix.labels.map((a, i) => [a, ...m.confusionMatrix.labels.map((_, j) => m.confusionMatrix.matrix[i]?.[j] ?? 0)]),
    },
  });
  const words = model.topWords.slice(0, 15);
  const wordsFig = await figure({
    id: 'top-words',
    title: 'Most informative words',
    note: `top ${words.length} by importance`,
    spec: words.length ? topWordsSpec(words) : undefined,
    description: `Most informative words: ${words.map((w) => w.word).join(', ')}.`,
    table: { head: ['word', 'importance'], rows: words.map((w) => [w.word, w.importance.toFixed(4)]) },
  });
  const groups =
    model.data.trainGroups !== undefined && model.data.testGroups !== undefined
      ? html` (${fmt(model.data.trainGroups)} / ${fmt(model.data.testGroups)} groups)`
      : html``;
  return html`<div class="card model-kpis">
<p class="meta">Trained <strong><time datetime="${model.trainedAt}">${timeLabel(model.trainedAt)}</time></strong> · engine ${model.engine} · run ${model.runId} · ${fmt(model.data.trainRows)} training and ${fmt(model.data.testRows)} test descriptions${groups}</p>
</div>
<ul class="kpis model-kpis">${tiles.map(([label, value]) => html`<li class="kpi"><span class="value">${value}</span><span class="label">${label}</span></li>`)}</ul>
<div class="grid">
<figure class="card" id="per-class"><figcaption>Per class <span class="note">precision, recall and F1 on the test set</span></figcaption>
<div class="table-wrap"><table class="metrics"><thead><tr><th>class</th><th class="num">precision</th><th class="num">recall</th><th class="num">F1</th><th class="num">support</th></tr></thead>
<tbody>${classes.map(([label, c]) => html`<tr><td>${label}</td><td class="num">${c.precision.toFixed(3)}</td><td class="num">${c.recall.toFixed(3)}</td><td class="num">${c.f1.toFixed(3)}</td><td class="num">${fmt(c.support)}</td></tr>`)}</tbody></table></div>
</figure>
${cm}${wordsFig}
</div>`;
}

/** Cross-validation tables (`ml evaluate --cv`): per model, mean ± std over folds, and each fold's accuracy. */
function cvSection(cvs: CrossValidation[]): Html {
  if (cvs.length === 0) return html``;
  const f = (x: number | null, d = 3): string => (x === null || !Number.isFinite(x) ? '–' : x.toFixed(d));
  const pm = (s: { mean: number | null; std: number | null } | undefined, d = 3): string => (s ? `${f(s.mean, d)} ± ${f(s.std, d)}` : '–');
  return html`${cvs.map((cv) => {
    const title = cv.scheme === 'region' ? `Leave one region out (${cv.folds.join(', ')})` : `Group ${cv.folds.length}-fold cross-validation`;
    return html`<figure class="card" id="cv-${cv.scheme}"><figcaption>${title} <span class="note">${fmt(cv.rows)} events of ${fmt(cv.groups)} groups (${cv.source}), ${timeLabel(cv.createdAt)}; mean ± std over folds; best: ${cv.best}</span></figcaption>
<div class="table-wrap"><table class="metrics"><thead><tr><th>model</th><th class="num">accuracy</th><th class="num">F1 outdoors</th><th class="num">F1 tech</th><th class="num">ROC AUC</th><th class="num">Brier</th><th class="num">ECE</th><th class="num">names only</th><th>accuracy per fold</th></tr></thead>
<tbody>${cv.models.map(
      (m) => html`<tr><td>${m.model}</td><td class="num">${pm(m.summary.accuracy, 4)}</td><td class="num">${pm(m.summary.f1['outdoors-adventure'])}</td><td class="num">${pm(m.summary.f1.tech)}</td><td class="num">${pm(m.summary.rocAuc, 4)}</td><td class="num">${pm(m.summary.brier, 4)}</td><td class="num">${pm(m.summary.ece, 4)}</td><td class="num">${pm(m.summary.namesAccuracy)}</td><td>${m.folds.map((x) => `${x.fold} ${f(x.metrics.accuracy, 4)}`).join(', ')}</td></tr>`,
    )}</tbody></table></div></figure>`;
  })}`;
}

interface FigureOptions {
  id: string;
  title: string;
  note?: string;
  className?: string;
  /** The chart; undefined when there is nothing to draw yet. */
  spec: TopLevelSpec | undefined;
  /** The text alternative: what the chart shows, in a sentence. */
  description: string;
  /** The chart's data as a table, for readers who cannot see it (collapsed under the chart). */
  table: { head: string[]; rows: Array<Array<string | number>> };
}

async function figure(o: FigureOptions): Promise<Html> {
  const body = o.spec
    ? trusted(await renderChart(o.spec, o.id, o.title, o.description))
    : html`<p class="empty">No data yet.</p>`;
  const table = o.table.rows.length
    ? html`<details class="data"><summary>Data table</summary><div class="table-wrap"><table><thead><tr>${o.table.head.map(
        (h, i) => html`<th${i > 0 ? trusted(' class="num"') : ''}>${h}</th>`,
      )}</tr></thead><tbody>${o.table.rows.map(
        (r) => html`<tr>${r.map((c, i) => html`<td${i > 0 ? trusted(' class="num"') : ''}>${typeof c === 'number' ? fmtCell(c) : c}</td>`)}</tr>`,
      )}</tbody></table></div></details>`
    : html``;
  return html`<figure class="card${o.className ? ` ${o.className}` : ''}" id="${o.id}"><figcaption>${o.title}${o.note ? html`<span class="note">${o.note}</span>` : ''}</figcaption>${body}${table}</figure>`;
}

/** Longest label shown: a stream record may carry a name of up to a megabyte. */
const MAX_LABEL = 200;
function clip(label: string): string {
  return label.length > MAX_LABEL ? `${label.slice(0, MAX_LABEL - 1)}…` : label;
}

const numberFormat = new Intl.NumberFormat('en-US');
function fmt(n: number): string {
  return numberFormat.format(n);
}
function fmtCell(n: number): string {
  return Number.isInteger(n) ? fmt(n) : String(n);
}
function pct(x: number): string {
  return `${(x * 100).toFixed(1)}%`;
}
/** 'YYYY-MM-DDTHH' → 'YYYY-MM-DD HH:00' (or :59 for the end of a range). */
function hourLabel(hour: string, minute = 0): string {
  return `${hour.slice(0, 10)} ${hour.slice(11, 13)}:${String(minute).padStart(2, '0')}`;
}
/** An ISO time as 'YYYY-MM-DD HH:MM UTC', or '–'. */
function timeLabel(iso: string | null): string {
  if (!iso) return '–';
  const ms = Date.parse(iso);
  return Number.isFinite(ms) ? `${new Date(ms).toISOString().slice(0, 16).replace('T', ' ')} UTC` : iso;
}
