/**
 * 2-D affine transform as [a, b, tx, c, d, ty]: x' = a·x + b·y + tx, y' = c·x + d·y + ty.
 */
export type Affine = readonly [number, number, number, number, number, number];

export type Point = readonly [number, number];

/**
 * Least-squares similarity (rotation, uniform scale, translation) taking `src` onto `dst`: Umeyama's
 * closed form in 2-D. Uses every point, unlike a 3-point affine, so one noisy landmark moves it less.
 */
export function estimateSimilarity(src: readonly Point[], dst: readonly Point[]): Affine {
  const n = src.length;
  let sx = 0, sy = 0, dx = 0, dy = 0;
  for (let i = 0; i < n; i++) {
    sx += src[i][0]; sy += src[i][1]; dx += dst[i][0]; dy += dst[i][1];
  }
  sx /= n; sy /= n; dx /= n; dy /= n;
  let sxx = 0, sxy = 0, varS = 0;
  for (let i = 0; i < n; i++) {
    const ax = src[i][0] - sx, ay = src[i][1] - sy;
    const bx = dst[i][0] - dx, by = dst[i][1] - dy;
    sxx += ax * bx + ay * by; // Σ a·b
    sxy += ax * by - ay * bx; // Σ a×b
    varS += ax * ax + ay * ay;
  }
  const a = sxx / varS; // s·cosθ
  const b = sxy / varS; // s·sinθ
  return [a, -b, dx - a * sx + b * sy, b, a, dy - b * sx - a * sy];
}

export function invertAffine(m: Affine): Affine {
  const [a, b, tx, c, d, ty] = m;
  const det = a * d - b * c;
  const ia = d / det, ib = -b / det, ic = -c / det, id = a / det;
  return [ia, ib, -(ia * tx + ib * ty), ic, id, -(ic * tx + id * ty)];
}

export const applyAffine = (m: Affine, [x, y]: Point): [number, number] => [m[0] * x + m[1] * y + m[2], m[3] * x + m[4] * y + m[5]];

/** The scale factor of an affine (geometric mean of the axes). */
export const affineScale = (m: Affine) => Math.sqrt(Math.abs(m[0] * m[4] - m[1] * m[3]));
