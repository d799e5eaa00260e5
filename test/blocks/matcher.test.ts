import { describe, expect, it } from 'vitest';
import { decodeTemplate, encodeTemplate } from '../../shared/blocks/face-template.js';
import { loadRocTable, Matcher, templateDistance } from '../../shared/blocks/matcher.js';
import { ApiError } from '../../shared/contract/errors.js';

const unit = (seed: number) => {
  const v = new Float32Array(512).map((_, i) => Math.sin(seed * 13.1 + i * 0.7));
  const n = Math.hypot(...v);
  return v.map((x) => x / n);
};

describe('templates', () => {
  it('round-trip with their method tag', () => {
    const t = { tag: 'fr_feature-512.v1', vector: unit(1) };
    const back = decodeTemplate(encodeTemplate(t), 'x');
    expect(back.tag).toBe(t.tag);
    expect([...back.vector]).toEqual([...t.vector]);
  });

  it('refuse garbage, foreign bytes and truncation with a clear 400', () => {
    const good = encodeTemplate({ tag: 'fr_feature-512.v1', vector: unit(1) });
    for (const bad of ['###', Buffer.from('hello world, not a template').toString('base64'), good.slice(0, 40)]) {
      const error = (() => {
        try {
          decodeTemplate(bad, 'object 0');
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(ApiError);
      expect((error as ApiError).status).toBe(400);
      expect(String((error as ApiError).detail)).toMatch(/^Invalid face template in object 0/);
    }
  });
});

describe('matcher', () => {
  const table = loadRocTable('fr_feature-512.v1');
  const matcher = new Matcher(table);

  it('ships a ROC table monotonic in distance, built from the named data set and command', () => {
    expect(table.dataset).toMatch(/face_verification/);
    expect(table.command).toBe('npm run calibrate');
    for (let i = 1; i < table.points.length; i++) {
      expect(table.points[i].distance).toBeGreaterThan(table.points[i - 1].distance);
      expect(table.points[i].far).toBeGreaterThanOrEqual(table.points[i - 1].far);
      expect(table.points[i].frr).toBeLessThanOrEqual(table.points[i - 1].frr);
    }
  });

  it('gives distance, fa_r, fr_r and a score that falls as distance grows', () => {
    const a = { tag: 'fr_feature-512.v1', vector: unit(1) };
    const same = matcher.compare(a, a);
    expect(same.distance).toBeCloseTo(0, 6);
    expect(same.fa_r).toBe(0);
    expect(same.score).toBeGreaterThan(0.99);
    let previous = { score: 2, far: -1, frr: 2 };
    for (let k = 0; k <= 10; k++) {
      // Mix a with an orthogonal-ish vector to walk the distance from 0 to ~1.4.
      const b = unit(1).map((x, i) => Math.cos((k * Math.PI) / 20) * x + Math.sin((k * Math.PI) / 20) * unit(7)[i]);
      const v = matcher.compare(a, { tag: a.tag, vector: b });
      expect(v.distance).toBeCloseTo(templateDistance(a.vector, b), 9);
      expect(v.score).toBeLessThanOrEqual(previous.score);
      expect(v.fa_r).toBeGreaterThanOrEqual(previous.far);
      expect(v.fr_r).toBeLessThanOrEqual(previous.frr);
      previous = { score: v.score, far: v.fa_r, frr: v.fr_r };
    }
  });

  it('refuses templates of different methods with a 400', () => {
    expect(() => matcher.compare({ tag: 'fr_feature-512.v1', vector: unit(1) }, { tag: 'other-model.v2', vector: unit(2) })).toThrow(
      /different recognizer methods/,
    );
  });
});
