import { beforeAll, describe, expect, it } from 'vitest';
import { AgeGenderModel, ageFromDistribution, ageGenderStats, clearAgeGenderCache, genderFromScore, type AgeGender } from '../../shared/blocks/age-gender.js';
import { contractEmotions, EmotionModel, FER2013_ORDER, type EmotionScore } from '../../shared/blocks/emotion.js';
import { FaceCapturer, type CapturedFace } from '../../shared/blocks/face-capturer.js';
import { faceSquare, fivePoints } from '../../shared/blocks/landmarks.js';
import { resolveConfigObject, type CapturerParams } from '../../shared/config/config-object.js';
import { EmotionLabels } from '../../shared/contract/objects.js';
import type { Point } from '../../shared/geometry/similarity.js';
import { decodeImage } from '../../shared/image/decode.js';
import type { RgbImage } from '../../shared/image/rgb-image.js';
import { cropResize } from '../../shared/image/warp.js';
import { DEMO_FACES, demoPhoto } from '../support/fixtures.js';

const capturerParams = resolveConfigObject('common_capturer_uld_fda.xml', { min_size: 20 }, 'test').params as CapturerParams;

const photos: RgbImage[] = [];
const faces: CapturedFace[][] = [];
let ageGender: AgeGenderModel;
let fx: EmotionModel;
let mx: EmotionModel;
const attrs: AgeGender[][] = [];
const emotionsFx: EmotionScore[][][] = [];
const emotionsMx: EmotionScore[][][] = [];

const regions = (list: CapturedFace[]) => list.map((f) => ({ box: f.box, five: fivePoints(f.landmarks) }));
const top = (e: EmotionScore[]) => e.reduce((m, x) => (x.confidence > m.confidence ? x : m)).emotion;

beforeAll(async () => {
  const capturer = await FaceCapturer.create(capturerParams);
  [ageGender, fx, mx] = await Promise.all([AgeGenderModel.create(), EmotionModel.create('fr_expression'), EmotionModel.create('emotion')]);
  clearAgeGenderCache();
  for (let i = 1; i <= 6; i++) {
    const img = await decodeImage(demoPhoto(i), { maxPixels: 40_000_000 });
    const found = await capturer.capture(img);
    photos.push(img);
    faces.push(found);
    attrs.push(await ageGender.run(img, regions(found)));
    emotionsFx.push(await fx.run(img, found.map((f) => f.box)));
    emotionsMx.push(await mx.run(img, found.map((f) => f.box)));
  }
});

describe('age and gender (faceres)', () => {
  it('answers every demo face (22 adult women)', () => {
    expect(faces.map((f) => f.length)).toEqual(DEMO_FACES);
    expect(attrs.map((a) => a.length)).toEqual(DEMO_FACES);
  });

  it('calls at least 20 of the 22 women FEMALE', () => {
    const all = attrs.flat();
    expect(all.filter((a) => a.gender === 'FEMALE').length).toBeGreaterThanOrEqual(20);
    for (const a of all) expect(a.gender).toBe(genderFromScore(a.maleScore));
  });

  it('gives integer adult ages, 18–50 for at least 20 of 22', () => {
    const ages = attrs.flat().map((a) => a.age);
    for (const age of ages) {
      expect(Number.isInteger(age)).toBe(true);
      expect(age).toBeGreaterThanOrEqual(0);
      expect(age).toBeLessThan(100);
    }
    expect(ages.filter((a) => a >= 18 && a <= 50).length).toBeGreaterThanOrEqual(20);
  });

  it('turns the 100-bin distribution into its expected value, rounded', () => {
    const oneHot = new Float32Array(100);
    oneHot[37] = 1;
    expect(ageFromDistribution(oneHot)).toBe(37);
    const split = new Float32Array(100);
    split[20] = split[31] = 0.5;
    expect(ageFromDistribution(split)).toBe(26); // 25.5 rounds up
    expect(genderFromScore(0.51)).toBe('MALE');
    expect(genderFromScore(0.5)).toBe('FEMALE');
  });

  it('answers a repeated face from the per-process cache with the same result, without inference', async () => {
    const before = { ...ageGenderStats };
    const again = await ageGender.run(photos[0], regions(faces[0]));
    expect(again).toEqual(attrs[0]);
    expect(ageGenderStats.runs).toBe(before.runs);
    expect(ageGenderStats.hits - before.hits).toBe(faces[0].length);
  });

  it('runs a moved face (different pixels) instead of reusing the cache', async () => {
    const before = ageGenderStats.runs;
    const shifted = faces[0].map((f) => ({ box: f.box, five: fivePoints(f.landmarks).map(([x, y]) => [x + 3, y] as Point) }));
    const out = await ageGender.run(photos[0], shifted);
    expect(ageGenderStats.runs - before).toBe(faces[0].length);
    // A 3-px shift is the same woman: still female, age within a few years.
    out.forEach((a, i) => {
      expect(a.gender).toBe(attrs[0][i].gender);
      expect(Math.abs(a.age - attrs[0][i].age)).toBeLessThanOrEqual(6);
    });
  });

  it('falls back to a box crop when the five points are unusable', async () => {
    const f = faces[0][0];
    const zeroed = Array.from({ length: 5 }, () => [0, 0] as Point);
    const [a] = await ageGender.run(photos[0], [{ box: f.box, five: zeroed }]);
    expect(a.gender).toBe('FEMALE');
    expect(Math.abs(a.age - attrs[0][0].age)).toBeLessThanOrEqual(10);
  });
});

describe('emotion', () => {
  const checkDistribution = (e: EmotionScore[]) => {
    expect(e.map((x) => x.emotion)).toEqual([...EmotionLabels]);
    for (const x of e) {
      expect(x.confidence).toBeGreaterThanOrEqual(0);
      expect(x.confidence).toBeLessThanOrEqual(1);
    }
    expect(Math.abs(e.reduce((s, x) => s + x.confidence, 0) - 1)).toBeLessThan(1e-6);
  };

  it('both models load and answer every face with all seven labels summing to 1', () => {
    expect(fx.name).toBe('fr_expression');
    expect(mx.name).toBe('emotion');
    for (const list of [emotionsFx, emotionsMx]) {
      expect(list.map((p) => p.length)).toEqual(DEMO_FACES);
      list.flat().forEach(checkDistribution);
    }
  });

  it('sees the smiling faces as HAPPY (samples 1, 3–6; sample 2 shows three women looking down, unsmiling)', () => {
    const smiling = (list: EmotionScore[][][]) => list.filter((_, i) => i !== 1).flat();
    expect(smiling(emotionsFx).filter((e) => top(e) === 'HAPPY').length).toBeGreaterThanOrEqual(15); // of 19
    expect(smiling(emotionsMx).filter((e) => top(e) === 'HAPPY').length).toBeGreaterThanOrEqual(9);
    // The less accurate mini-Xception still agrees with the DenseNet on most of those faces.
    const agree = smiling(emotionsFx).filter((e, i) => top(e) === top(smiling(emotionsMx)[i])).length;
    expect(agree).toBeGreaterThanOrEqual(9);
  });

  it('maps each model class (FER-2013 order) to its contract label', () => {
    const expected = ['ANGRY', 'DISGUSTED', 'SCARED', 'HAPPY', 'SAD', 'SURPRISED', 'NEUTRAL'];
    expect(FER2013_ORDER).toEqual(expected);
    expected.forEach((label, i) => {
      const logits = [0.1, -0.3, 0.2, 0, 0.4, -1, 0.3];
      logits[i] = 5;
      const e = contractEmotions(logits, 'logits');
      checkDistribution(e);
      expect(top(e)).toBe(label);
      // softmax: e^5 / (e^5 + Σ others)
      const others = logits.reduce((s, v, k) => (k === i ? s : s + Math.exp(v)), 0);
      expect(e.find((x) => x.emotion === label)!.confidence).toBeCloseTo(Math.exp(5) / (Math.exp(5) + others), 4);
    });
  });

  it('keeps probabilities as given (renormalised) and splits equal logits evenly', () => {
    const p = contractEmotions([0.05, 0.05, 0.1, 0.4, 0.1, 0.1, 0.2], 'probabilities');
    checkDistribution(p);
    expect(Object.fromEntries(p.map((x) => [x.emotion, x.confidence]))).toEqual({
      ANGRY: 0.05, DISGUSTED: 0.05, SCARED: 0.1, HAPPY: 0.4, NEUTRAL: 0.2, SAD: 0.1, SURPRISED: 0.1,
    });
    const even = contractEmotions([1, 1, 1, 1, 1, 1, 1], 'logits');
    checkDistribution(even);
    for (const x of even) expect(x.confidence).toBeCloseTo(1 / 7, 4);
    expect(() => contractEmotions([1, 2, 3], 'logits')).toThrow(/expected 7/);
  });

  it('reads a face chip given as the whole image like the same face in the photo', async () => {
    // The square the block crops, cut out as its own image: the whole-image path must agree on the top label.
    let same = 0, n = 0;
    for (const [i, list] of faces.entries()) {
      for (const [k, f] of list.entries()) {
        const sq = faceSquare(f.box, photos[i].width, photos[i].height);
        const side = Math.round(sq.x2 - sq.x1);
        const chip: RgbImage = { data: cropResize(photos[i], sq.x1, sq.y1, sq.x2 - sq.x1, sq.y2 - sq.y1, side, side), width: side, height: side };
        const [e] = await fx.run(chip, [{ x1: 0, y1: 0, x2: side, y2: side }]);
        n++;
        if (top(e) === top(emotionsFx[i][k])) same++;
      }
    }
    expect(same).toBeGreaterThanOrEqual(n - 1);
  });
});
