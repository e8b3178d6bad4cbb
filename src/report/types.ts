import { z } from 'zod';

/**
 * What the report shows, independent of where it came from: the loader (load.ts) fills it from
 * the curated tables and the newest model's metrics; renderReport (render.ts) draws it.
 */

/** The eight top-10 charts of the original dashboard, in its order, each counted over unique events. */
export const TOP_CHARTS = [
  { key: 'categories', title: 'Categories', column: 'category' },
  { key: 'eventNames', title: 'Event names', column: 'event name' },
  { key: 'groupCities', title: 'Group cities', column: 'group city' },
  { key: 'groupCountries', title: 'Group countries', column: 'group country' },
  { key: 'groupNames', title: 'Group names', column: 'group name' },
  { key: 'venueCities', title: 'Venue cities', column: 'venue city' },
  { key: 'venueCountries', title: 'Venue countries', column: 'venue country' },
  { key: 'venueNames', title: 'Venue names', column: 'venue name' },
] as const;

export type TopKey = (typeof TOP_CHARTS)[number]['key'];

/** A labelled count (one bar). */
export interface Count {
  label: string;
  count: number;
}

export interface ReportTotals {
  /** Raw records received (every version of every event, valid or not). */
  eventsReceived: number;
  /** Distinct event ids in the curated events table. */
  uniqueEvents: number;
  groups: number;
  venues: number;
  /** Distinct group countries. */
  countries: number;
  quarantined: number;
}

/** Records that arrived in one UTC hour or day (see ReportData.activityUnit). */
export interface HourCount {
  /** The bucket's first hour, 'YYYY-MM-DDTHH' ('YYYY-MM-DDT00' for a day). */
  hour: string;
  events: number;
}

/** A cell of the world map: groups located near (lat, lon), and their unique events. */
export interface GroupLocation {
  lat: number;
  lon: number;
  groups: number;
  events: number;
}

/** How fresh an hour's data is: when its raw data last arrived and when the ETL finished it. */
export interface HourFreshness {
  hour: string;
  /** ISO time of the newest raw object of the hour, or null when none is listed. */
  rawArrivedAt: string | null;
  /** ISO time the ETL processed the hour, or null when it has not yet. */
  etlDoneAt: string | null;
}

const classMetrics = z.object({
  precision: z.number(),
  recall: z.number(),
  f1: z.number(),
  support: z.number(),
});

/**
 * `models/<run-id>/metrics.json`, as the ML stage writes it (the contract agreed with it).
 * Unknown extra keys are allowed and ignored.
 */
export const modelMetricsSchema = z.object({
  runId: z.string(),
  engine: z.string(),
  trainedAt: z.string(),
  params: z.record(z.string(), z.unknown()).optional(),
  data: z.object({
    trainRows: z.number(),
    testRows: z.number(),
    trainGroups: z.number().optional(),
    testGroups: z.number().optional(),
  }),
  metrics: z.object({
    accuracy: z.number(),
    /** null when the test set lacks one of the classes. */
    rocAuc: z.number().nullable(),
    perClass: z.record(z.string(), classMetrics),
    confusionMatrix: z.object({
      labels: z.array(z.string()),
      matrix: z.array(z.array(z.number())),
    }),
  }),
  topWords: z.array(z.object({ word: z.string(), importance: z.number() })),
});

export type ModelMetrics = z.infer<typeof modelMetricsSchema>;

const spread = z.object({ mean: z.number().nullable(), std: z.number().nullable(), min: z.number().nullable(), max: z.number().nullable() });

/**
 * `models/_cv/<id>.json`, as `openevents ml evaluate --cv` writes it (src/ml/cv.ts CvReport): the
 * part the report shows. Unknown extra keys are allowed and ignored.
 */
export const crossValidationSchema = z.object({
  id: z.string(),
  createdAt: z.string(),
  scheme: z.enum(['region', 'group']),
  source: z.string(),
  rows: z.number(),
  groups: z.number(),
  folds: z.array(z.string()),
  best: z.string(),
  models: z.array(
    z.object({
      model: z.string(),
      folds: z.array(z.object({ fold: z.string(), metrics: z.object({ accuracy: z.number() }) })),
      summary: z.object({
        accuracy: spread,
        rocAuc: spread,
        f1: z.record(z.string(), spread),
        brier: spread,
        ece: spread,
        namesAccuracy: spread.optional(),
      }),
    }),
  ),
});

export type CrossValidation = z.infer<typeof crossValidationSchema>;

export interface ReportData {
  /** ISO time the report was built. */
  generatedAt: string;
  /** First and last UTC arrival hour covered ('YYYY-MM-DDTHH'), null for an empty lake. */
  coveredFrom: string | null;
  coveredTo: string | null;
  /** ISO time of the newest ETL run over the covered hours, null when none. */
  lastUpdate: string | null;
  totals: ReportTotals;
  top: Record<TopKey, Count[]>;
  /** Records received per arrival hour (or day, for long ranges), every bucket of the covered range. */
  eventsPerHour: HourCount[];
  /** 'hour' up to 45 days of coverage, 'day' beyond, so the chart stays readable and small. */
  activityUnit: 'hour' | 'day';
  /** Unique events by current status. */
  statusMix: Count[];
  groupLocations: GroupLocation[];
  /** The most recent hours' freshness (at most two weeks of hours). */
  freshness: HourFreshness[];
  /** Older hours left out of `freshness`. */
  freshnessOmitted: number;
  /** The newest trained model's metrics, or null when no model has been trained. */
  model: ModelMetrics | null;
  /** Why the model section is empty despite a metrics file (e.g. it did not parse). */
  modelNote?: string;
  /** The newest cross-validation of each scheme (`ml evaluate --cv`), region first; absent when none. */
  crossValidation?: CrossValidation[];
}
