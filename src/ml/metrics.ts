import { LABELS, type Label } from './labels.ts';

/** Precision, recall, F1 and support of one class. */
export interface ClassMetrics {
  precision: number;
  recall: number;
  f1: number;
  support: number;
}

/** The evaluation block of metrics.json. */
export interface Metrics {
  accuracy: number;
  /** ROC AUC of P(tech) with tech as the positive class; ties count half. */
  rocAuc: number;
  perClass: Record<Label, ClassMetrics>;
  /** Rows are the actual class, columns the predicted one, in `labels` order. */
  confusionMatrix: { labels: Label[]; matrix: number[][] };
}

/**
 * Evaluation numbers computed from predictions: `actual` labels (0/1) and `scores` = P(tech);
 * the predicted class is tech when the score is above `threshold` (0.5).
 */
export function computeMetrics(actual: ArrayLike<number>, scores: ArrayLike<number>, threshold = 0.5): Metrics {
  if (actual.length !== scores.length) throw new Error(`${actual.length} labels but ${scores.length} scores`);
  const matrix = [
    [0, 0],
    [0, 0],
  ];
  for (let i = 0; i < actual.length; i++) {
    const predicted = scores[i]! > threshold ? 1 : 0;
    matrix[actual[i] === 1 ? 1 : 0]![predicted]!++;
  }
  const n = actual.length;
  const correct = matrix[0]![0]! + matrix[1]![1]!;
  const perClass = {} as Record<Label, ClassMetrics>;
  LABELS.forEach((label, c) => {
    const tp = matrix[c]![c]!;
    const predictedC = matrix[0]![c]! + matrix[1]![c]!;
    const support = matrix[c]![0]! + matrix[c]![1]!;
    const precision = predictedC > 0 ? tp / predictedC : 0;
    const recall = support > 0 ? tp / support : 0;
    perClass[label] = { precision, recall, f1: precision + recall > 0 ? (2 * precision * recall) / (precision + recall) : 0, support };
  });
  return {
    accuracy: n > 0 ? correct / n : 0,
    rocAuc: rocAuc(actual, scores),
    perClass,
    confusionMatrix: { labels: [...LABELS], matrix },
  };
}

/**
 * Area under the ROC curve (the Mann–Whitney statistic with average ranks for ties): the chance a
 * random positive scores above a random negative, ties counting half. NaN without both classes.
 */
export function rocAuc(actual: ArrayLike<number>, scores: ArrayLike<number>): number {
  const order = Array.from({ length: actual.length }, (_, i) => i).sort((a, b) => scores[a]! - scores[b]!);
  let positives = 0;
  let rankSum = 0;
  for (let i = 0; i < order.length; ) {
    let j = i;
    while (j + 1 < order.length && scores[order[j + 1]!] === scores[order[i]!]) j++;
    const averageRank = (i + j + 2) / 2; // ranks are 1-based
    for (let k = i; k <= j; k++) {
      if (actual[order[k]!] === 1) {
        positives++;
        rankSum += averageRank;
      }
    }
    i = j + 1;
  }
  const negatives = actual.length - positives;
  if (positives === 0 || negatives === 0) return Number.NaN;
  return (rankSum - (positives * (positives + 1)) / 2) / (positives * negatives);
}
