/** ROC arithmetic over distances (lower = more alike) of genuine and impostor pairs. */
export interface RocSummary {
  auc: number;
  eer: number;
  eerThreshold: number;
  tarAtFar: (far: number) => { tar: number; threshold: number };
}

export function rocSummary(genuine: number[], impostor: number[]): RocSummary {
  const g = [...genuine].sort((a, b) => a - b);
  const i = [...impostor].sort((a, b) => a - b);
  // AUC = P(genuine distance < impostor distance), ties count half.
  let wins = 0;
  let j = 0;
  let k = 0;
  for (const d of g) {
    while (j < i.length && i[j] < d) j++;
    k = j;
    while (k < i.length && i[k] === d) k++;
    wins += i.length - k + (k - j) / 2;
  }
  const auc = wins / (g.length * i.length);
  const far = (t: number) => i.filter((d) => d <= t).length / i.length;
  const frr = (t: number) => g.filter((d) => d > t).length / g.length;
  let eer = 1, eerThreshold = 0, best = Infinity;
  for (const t of [...g, ...i]) {
    const a = far(t), b = frr(t);
    if (Math.abs(a - b) < best) {
      best = Math.abs(a - b);
      eer = (a + b) / 2;
      eerThreshold = t;
    }
  }
  const tarAtFar = (target: number) => {
    // Largest threshold whose FAR stays at or under the target.
    const allowed = Math.floor(target * i.length);
    const threshold = allowed >= i.length ? Infinity : i[allowed] - 1e-9;
    return { tar: g.filter((d) => d <= threshold).length / g.length, threshold };
  };
  return { auc, eer, eerThreshold, tarAtFar };
}
