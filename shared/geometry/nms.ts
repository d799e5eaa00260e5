import { iou, type Box } from './box.js';

export interface Scored {
  box: Box;
  score: number;
}

/** Greedy non-maximum suppression with ordinary IoU (the vendor JS divides by one box's area instead). */
export function nms<T extends Scored>(candidates: T[], iouThreshold: number, maxKeep = Infinity): T[] {
  const sorted = [...candidates].sort((a, b) => b.score - a.score);
  const kept: T[] = [];
  for (const c of sorted) {
    if (kept.length >= maxKeep) break;
    if (kept.every((k) => iou(k.box, c.box) <= iouThreshold)) kept.push(c);
  }
  return kept;
}
