/** An axis-aligned box in pixels of the original image: x1, y1 inclusive corner; x2, y2 exclusive. */
export interface Box {
  x1: number;
  y1: number;
  x2: number;
  y2: number;
}

export const boxWidth = (b: Box) => b.x2 - b.x1;
export const boxHeight = (b: Box) => b.y2 - b.y1;
export const boxArea = (b: Box) => Math.max(0, boxWidth(b)) * Math.max(0, boxHeight(b));

export function iou(a: Box, b: Box): number {
  const w = Math.min(a.x2, b.x2) - Math.max(a.x1, b.x1);
  const h = Math.min(a.y2, b.y2) - Math.max(a.y1, b.y1);
  if (w <= 0 || h <= 0) return 0;
  const inter = w * h;
  return inter / (boxArea(a) + boxArea(b) - inter);
}

/** Square of side `side` centred on the box's centre. */
export function squareAround(b: Box, side: number): Box {
  const cx = (b.x1 + b.x2) / 2;
  const cy = (b.y1 + b.y2) / 2;
  return { x1: cx - side / 2, y1: cy - side / 2, x2: cx + side / 2, y2: cy + side / 2 };
}

/** Moves a box (without resizing it, unless it is larger than the image) so that it lies inside the image. */
export function shiftInside(b: Box, width: number, height: number): Box {
  const w = Math.min(boxWidth(b), width);
  const h = Math.min(boxHeight(b), height);
  const x1 = Math.min(Math.max(b.x1, 0), width - w);
  const y1 = Math.min(Math.max(b.y1, 0), height - h);
  return { x1, y1, x2: x1 + w, y2: y1 + h };
}

export function clipBox(b: Box, width: number, height: number): Box {
  return {
    x1: Math.min(Math.max(b.x1, 0), width),
    y1: Math.min(Math.max(b.y1, 0), height),
    x2: Math.min(Math.max(b.x2, 0), width),
    y2: Math.min(Math.max(b.y2, 0), height),
  };
}

export function scaleBox(b: Box, factor: number): Box {
  const cx = (b.x1 + b.x2) / 2;
  const cy = (b.y1 + b.y2) / 2;
  const hw = (boxWidth(b) * factor) / 2;
  const hh = (boxHeight(b) * factor) / 2;
  return { x1: cx - hw, y1: cy - hh, x2: cx + hw, y2: cy + hh };
}

/** Contract bbox (normalised `[x1, y1, x2, y2]`) ↔ pixel box. */
export const toNormalised = (b: Box, width: number, height: number): [number, number, number, number] => {
  const c = clipBox(b, width, height);
  return [c.x1 / width, c.y1 / height, c.x2 / width, c.y2 / height];
};
export const fromNormalised = (bbox: readonly number[], width: number, height: number): Box => ({
  x1: bbox[0] * width,
  y1: bbox[1] * height,
  x2: bbox[2] * width,
  y2: bbox[3] * height,
});
