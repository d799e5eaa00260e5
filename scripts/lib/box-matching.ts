/** Detection scoring: greedy one-to-one matching of predictions (by score) to ground truth at an IoU threshold. */
export type Xyxy = [number, number, number, number];

export function iouXyxy(a: Xyxy, b: Xyxy): number {
  const w = Math.min(a[2], b[2]) - Math.max(a[0], b[0]);
  const h = Math.min(a[3], b[3]) - Math.max(a[1], b[1]);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / ((a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter);
}

export interface MatchCounts {
  truths: number;
  predictions: number;
  matched: number;
}

export function matchBoxes(predictions: { box: Xyxy; score: number }[], truths: Xyxy[], iouThreshold = 0.5): MatchCounts {
  const used = new Set<number>();
  let matched = 0;
  for (const p of [...predictions].sort((a, b) => b.score - a.score)) {
    let best = -1, bestIou = iouThreshold;
    truths.forEach((t, i) => {
      if (used.has(i)) return;
      const v = iouXyxy(p.box, t);
      if (v >= bestIou) {
        bestIou = v;
        best = i;
      }
    });
    if (best >= 0) {
      used.add(best);
      matched++;
    }
  }
  return { truths: truths.length, predictions: predictions.length, matched };
}

export const addCounts = (a: MatchCounts, b: MatchCounts): MatchCounts => ({
  truths: a.truths + b.truths,
  predictions: a.predictions + b.predictions,
  matched: a.matched + b.matched,
});
