/**
 * The two classes the classifier tells apart, by Meetup group category. Index 0 is the negative
 * class and 1 the positive one (ROC AUC scores P(tech)); the order is also the confusion matrix's.
 */
export const LABELS = ['outdoors-adventure', 'tech'] as const;
export type Label = (typeof LABELS)[number];

/** Meetup category id → class index (0 outdoors-adventure, 1 tech). */
export const CATEGORY_LABEL: ReadonlyMap<number, 0 | 1> = new Map([
  [23, 0],
  [34, 1],
]);

/** The category ids the classifier learns from. */
export const LABELLED_CATEGORY_IDS = [...CATEGORY_LABEL.keys()];

/** One labelled description: what training and evaluation work on. */
export interface LabelledDoc {
  eventId: string;
  groupId: number;
  /** 0 = outdoors-adventure, 1 = tech. */
  label: 0 | 1;
  /** Event name + plain-text description (name first, on its own line). */
  text: string;
  /** Where the group is: its state (US), else its country; for leave-one-region-out evaluation. */
  region?: string;
}

/** The classifiers (src/ml/model.ts): logistic regression, naive Bayes, their ensemble, the random forest. */
export const MODEL_KINDS = ['lr', 'nb', 'ensemble', 'rf'] as const;
export type ModelKind = (typeof MODEL_KINDS)[number];

/** The default model: the best mean accuracy on leave-one-region-out of the real corpus (docs/ml.md). */
export const DEFAULT_MODEL: ModelKind = 'ensemble';
