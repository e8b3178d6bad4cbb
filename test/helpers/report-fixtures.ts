import type { ModelMetrics, ReportData } from '../../src/report/types.ts';

/** The hostile event name the escaping checks look for. */
export const HOSTILE = '<script>alert(1)</script>';

/** Model metrics in the shape the ML stage writes to models/<run-id>/metrics.json. */
export function sampleMetrics(overrides: Partial<ModelMetrics> = {}): ModelMetrics {
  return {
    runId: '2026-11-28T060000Z',
    engine: 'ts',
    trainedAt: '2026-11-28T06:00:00.000Z',
    params: { trees: 100, maxDepth: 20 },
    data: { trainRows: 4000, testRows: 1000, trainGroups: 320, testGroups: 80 },
    metrics: {
      accuracy: 0.951,
      rocAuc: 0.987,
      perClass: {
        'outdoors-adventure': { precision: 0.94, recall: 0.96, f1: 0.95, support: 510 },
        tech: { precision: 0.96, recall: 0.94, f1: 0.95, support: 490 },
      },
      confusionMatrix: { labels: ['outdoors-adventure', 'tech'], matrix: [[490, 20], [29, 461]] },
    },
    topWords: ['hike', 'trail', 'data', 'miles', 'water', 'agenda', 'park', 'trip'].map((word, i) => ({ word, importance: 0.05 - i * 0.004 })),
    ...overrides,
  };
}

/** A small, complete ReportData with a hostile event name among the top event names. */
export function sampleReportData(overrides: Partial<ReportData> = {}): ReportData {
  const hours = Array.from({ length: 30 }, (_, i) => new Date(Date.UTC(2015, 2, 8, i)).toISOString().slice(0, 13));
  return {
    generatedAt: '2015-03-09T07:10:00.000Z',
    coveredFrom: hours[0] ?? null,
    coveredTo: hours.at(-1) ?? null,
    lastUpdate: '2015-03-09T06:07:00.000Z',
    totals: { eventsReceived: 758, uniqueEvents: 519, groups: 400, venues: 300, countries: 25, quarantined: 1 },
    top: {
      categories: [
        { label: 'socializing', count: 60 },
        { label: 'outdoors-adventure', count: 45 },
        { label: 'tech', count: 44 },
      ],
      eventNames: [
        { label: HOSTILE, count: 7 },
        { label: 'Saturday Hike & "Brunch"', count: 5 },
      ],
      groupCities: [{ label: 'New York', count: 36 }, { label: 'London', count: 20 }],
      groupCountries: [{ label: 'us', count: 278 }, { label: 'gb', count: 38 }, { label: 'ca', count: 25 }],
      groupNames: [{ label: 'Hikers of <NYC>', count: 9 }],
      venueCities: [{ label: 'Brooklyn', count: 12 }],
      venueCountries: [{ label: 'us', count: 200 }],
      venueNames: [{ label: "Joe's Pub", count: 4 }],
    },
    eventsPerHour: hours.map((hour, i) => ({ hour, events: 10 + ((i * 7) % 23) })),
    activityUnit: 'hour',
    statusMix: [{ label: 'upcoming', count: 480 }, { label: 'canceled', count: 30 }, { label: 'suggested', count: 9 }],
    groupLocations: [
      { lat: 40.7, lon: -74, groups: 30, events: 60 },
      { lat: 51.5, lon: -0.1, groups: 12, events: 20 },
      { lat: -33.9, lon: 151.2, groups: 5, events: 8 },
    ],
    freshness: hours.map((hour, i) => ({
      hour,
      rawArrivedAt: new Date(Date.parse(`${hour}:59:00Z`)).toISOString(),
      etlDoneAt: i === hours.length - 1 ? null : new Date(Date.parse(`${hour}:00:00Z`) + 66 * 60_000).toISOString(),
    })),
    freshnessOmitted: 0,
    model: sampleMetrics(),
    ...overrides,
  };
}
