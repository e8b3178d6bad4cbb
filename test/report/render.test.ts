import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { renderReport } from '../../src/report/render.ts';
import { TOP_CHARTS } from '../../src/report/types.ts';
import { sampleMetrics, sampleReportData } from '../helpers/report-fixtures.ts';

describe('renderReport', () => {
  it('writes a page with no script element and the hostile name only as escaped text', async () => {
    // Given data whose top event name, a group name and a model word are hostile markup
    const data = sampleReportData({ model: sampleMetrics({ topWords: [{ word: '<img src=x onerror=alert(1)>', importance: 0.1 }] }) });
    // When rendered
    const page = await renderReport(data);
    // Then nothing from the data became markup
    expect(page).not.toMatch(/<script/i);
    expect(page).not.toMatch(/<img/i);
    expect(page).not.toContain('<NYC>');
    expect(page).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('Hikers of &lt;NYC&gt;');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    // and the quote-bearing name cannot break an attribute
    expect(page).toContain('Saturday Hike &amp; &quot;Brunch&quot;');
  });

  it('forbids scripts and every fetch with a CSP that pins the one inline stylesheet', async () => {
    const page = await renderReport(sampleReportData());
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(page)?.[1];
    expect(csp).toBeDefined();
    expect(csp).toContain("default-src 'none'");
    expect(csp).not.toMatch(/script-src|unsafe-inline|unsafe-eval/);
    // The hash in the policy is the hash of the <style> element's text, computed here independently.
    const styles = [...page.matchAll(/<style>([\s\S]*?)<\/style>/g)].map((m) => m[1] ?? '');
    expect(styles).toHaveLength(1);
    const hash = createHash('sha256').update(styles[0]!, 'utf8').digest('base64');
    expect(csp).toContain(`style-src 'sha256-${hash}'`);
    // No inline style attributes (the policy would block them) and nothing to load.
    expect(page).not.toMatch(/\sstyle=/);
    expect(page).not.toMatch(/\s(src|href)=/);
    expect(page).not.toMatch(/url\((?!#)|@import|@font-face/);
    // SVG ids (clip paths) are unique across the charts of the page
    const ids = [...page.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('draws each top-10 chart once, as a named inline SVG with its data table', async () => {
    const data = sampleReportData();
    const page = await renderReport(data);
    for (const { key, title } of TOP_CHARTS) {
      const figures = page.match(new RegExp(`<figure class="card" id="top-${key}">[\\s\\S]*?</figure>`, 'g')) ?? [];
      expect(figures, key).toHaveLength(1);
      const figure = figures[0]!;
      expect(figure).toMatch(new RegExp(`<svg [^>]*role="img"[^>]*aria-labelledby="top-${key}-t top-${key}-d"`));
      expect(figure).toContain(`<title id="top-${key}-t">${title}</title>`);
      expect(figure).toMatch(/viewBox="0 0 [\d.]+ [\d.]+"/);
      // every bar's label is in the data table
      for (const row of data.top[key]) expect(figure).toContain(`${row.count}</td>`);
    }
  });

  it('shows the covered range, the KPI tiles and the model numbers', async () => {
    const data = sampleReportData();
    const page = await renderReport(data);
    expect(page).toContain('2015-03-08 00:00');
    expect(page).toContain('2015-03-09 05:59');
    for (const label of ['events received', 'unique events', 'groups', 'venues', 'countries', 'quarantined records']) expect(page).toContain(`<span class="label">${label}</span>`);
    expect(page).toContain('<span class="value">758</span>');
    expect(page).toContain('<span class="value">95.1%</span>'); // accuracy 0.951
    expect(page).toContain('<span class="value">0.987</span>'); // ROC AUC
    expect(page).toContain('id="confusion"');
    expect(page).toContain('id="top-words"');
  });

  it('titles the activity chart by its unit and labels day buckets by date', async () => {
    const days = Array.from({ length: 60 }, (_, i) => ({ hour: `${new Date(Date.UTC(2026, 0, 1 + i)).toISOString().slice(0, 10)}T00`, events: i }));
    const page = await renderReport(sampleReportData({ eventsPerHour: days, activityUnit: 'day', freshnessOmitted: 1234 }));
    const figure = /<figure class="card" id="events-per-hour">[\s\S]*?<\/figure>/.exec(page)?.[0] ?? '';
    expect(figure).toContain('<figcaption>Events per day<span class="note">records received per UTC arrival day</span>');
    expect(figure).toContain('<td>2026-03-01</td>');
    expect(figure.match(/<tr><td>/g)).toHaveLength(60);
    expect(page).toContain('(1,234 older left out)');
  });

  it('clips a megabyte-long name to a readable label', async () => {
    const long = 'x'.repeat(1_000_000);
    const base = sampleReportData();
    const page = await renderReport(sampleReportData({ top: { ...base.top, venueNames: [{ label: long, count: 3 }] } }));
    expect(page.length).toBeLessThan(1_000_000);
    expect(page).toContain(`<td>${'x'.repeat(199)}…</td>`);
  });

  it('shows a dash for a ROC AUC the ML stage could not compute', async () => {
    const base = sampleMetrics();
    const page = await renderReport(sampleReportData({ model: { ...base, metrics: { ...base.metrics, rocAuc: null } } }));
    expect(page).toContain('<li class="kpi"><span class="value">–</span><span class="label">ROC AUC</span></li>');
  });

  it('shows a "no model trained yet" panel and "no data yet" charts for an empty lake', async () => {
    const empty = sampleReportData({
      coveredFrom: null,
      coveredTo: null,
      lastUpdate: null,
      totals: { eventsReceived: 0, uniqueEvents: 0, groups: 0, venues: 0, countries: 0, quarantined: 0 },
      top: Object.fromEntries(TOP_CHARTS.map(({ key }) => [key, []])) as never,
      eventsPerHour: [],
      statusMix: [],
      groupLocations: [],
      freshness: [],
      model: null,
    });
    const page = await renderReport(empty);
    expect(page).toContain('No model trained yet');
    expect(page).toContain('No data processed yet');
    expect(page.match(/No data yet\./g)).toHaveLength(TOP_CHARTS.length + 4);
    expect(page).not.toContain('<svg');
  });
});
