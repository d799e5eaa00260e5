import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { beforeAll, describe, expect, it } from 'vitest';
import { FaceCapturer, type CapturedFace } from '../../shared/blocks/face-capturer.js';
import { fivePoints } from '../../shared/blocks/landmarks.js';
import * as Dg from '../../shared/blocks/quality/degradations.js';
import { eyeLineRoll } from '../../shared/blocks/quality/geometry.js';
import { heuristicMaskSignal } from '../../shared/blocks/quality/mask.js';
import { expressionGeometry, neutralFromGeometry } from '../../shared/blocks/quality/neutral.js';
import { createQualityAssessor, defaultQualityParams, qualityParamsFrom, type Qaa, type QualityAssessor } from '../../shared/blocks/quality/index.js';
import { alignFace } from '../../shared/blocks/face-aligner.js';
import { resolveConfigObject, type CapturerParams } from '../../shared/config/config-object.js';
import { QualityFields } from '../../shared/contract/objects.js';
import { iou, type Box } from '../../shared/geometry/box.js';
import { decodeImage } from '../../shared/image/decode.js';
import type { RgbImage } from '../../shared/image/rgb-image.js';
import { dataRoot, hasDataset, readCsv } from '../../scripts/lib/datasets.js';
import { demoPhoto } from '../support/fixtures.js';

/**
 * Each quality signal must move the right way under its own controlled degradation of real faces. The
 * 22 faces of the MIT demo photos are the subjects: each is cut out with room around it (3× its box),
 * degraded, and assessed as a client would send it (the clean face's box and fda points; landmarks are
 * re-fitted on the degraded pixels). A score within 2 of its bound cannot move further in integers
 * (and closed eyes cannot be closed): those faces are left out, and at least 95 % of the others must move.
 */

const capturerParams = resolveConfigObject('common_capturer_uld_fda.xml', { min_size: 20 }, 'test').params as CapturerParams;
const decode = (b: Buffer) => decodeImage(b, { maxPixels: 40_000_000 });

interface Sample {
  id: string;
  img: RgbImage;
  face: CapturedFace;
}

let capturer: FaceCapturer;
let assessor: QualityAssessor;
const samples: Sample[] = [];
const clean = new Map<string, Qaa>();

const shift = (f: CapturedFace, dx: number, dy: number): CapturedFace => ({
  ...f,
  box: { x1: f.box.x1 - dx, y1: f.box.y1 - dy, x2: f.box.x2 - dx, y2: f.box.y2 - dy },
  landmarks: f.landmarks.map(([x, y]) => [x - dx, y - dy] as const),
});

/** A face with room around it: the photo cut to 3× the face box (clipped), coordinates moved along. */
function window(img: RgbImage, f: CapturedFace): { img: RgbImage; face: CapturedFace } {
  const w = f.box.x2 - f.box.x1, h = f.box.y2 - f.box.y1;
  const x1 = Math.max(0, Math.round(f.box.x1 - w)), y1 = Math.max(0, Math.round(f.box.y1 - h));
  const x2 = Math.min(img.width, Math.round(f.box.x2 + w)), y2 = Math.min(img.height, Math.round(f.box.y2 + h));
  const data = new Uint8Array((x2 - x1) * (y2 - y1) * 3);
  for (let y = y1; y < y2; y++) data.set(img.data.subarray((y * img.width + x1) * 3, (y * img.width + x2) * 3), (y - y1) * (x2 - x1) * 3);
  return { img: { data, width: x2 - x1, height: y2 - y1 }, face: shift(f, x1, y1) };
}

const assess = (img: RgbImage, f: CapturedFace, q: QualityAssessor = assessor) =>
  q.assess(img, { box: f.box, score: f.score, five: fivePoints(f.landmarks), landmarks: null, angles: f.angles }, capturer);

/** The face nearest the window's centre after a geometric change (rotation, crop), re-detected. */
async function redetect(img: RgbImage, near: Box): Promise<CapturedFace | undefined> {
  const faces = await capturer.capture(img);
  return faces.sort((a, b) => iou(b.box, near) - iou(a.box, near))[0];
}

beforeAll(async () => {
  capturer = await FaceCapturer.create(capturerParams);
  assessor = await createQualityAssessor(defaultQualityParams());
  for (let i = 1; i <= 6; i++) {
    const photo = await decode(demoPhoto(i));
    for (const [j, f] of (await capturer.capture(photo)).entries()) {
      const s = { id: `sample${i}#${j}`, ...window(photo, f) };
      samples.push(s);
      clean.set(s.id, await assess(s.img, s.face));
    }
  }
});

type Direction = 'down' | 'up';

/** Applies a degradation to every sample and checks that `field` moves the expected way in ≥ 95 % of the movable faces. */
async function expectMoves(
  field: keyof Qaa,
  direction: Direction,
  degrade: (s: Sample) => Promise<{ img: RgbImage; face: CapturedFace } | undefined>,
  canMove: (before: number) => boolean = (v) => (direction === 'down' ? v > 2 : v < 98),
): Promise<void> {
  let moved = 0, movable = 0;
  const stuck: string[] = [];
  for (const s of samples) {
    const before = clean.get(s.id)![field] as number;
    if (!canMove(before)) continue;
    const d = await degrade(s);
    if (!d) continue;
    movable++;
    const after = (await assess(d.img, d.face))[field] as number;
    if (direction === 'down' ? after < before : after > before) moved++;
    else stuck.push(`${s.id}: ${before} → ${after}`);
  }
  expect(movable, `${field}: too few faces could move`).toBeGreaterThanOrEqual(15);
  expect(moved / movable, `${field} ${direction}: ${moved}/${movable}; did not move: ${stuck.join(', ')}`).toBeGreaterThanOrEqual(0.95);
}

const same = async (s: Sample, img: RgbImage | Promise<RgbImage>) => ({ img: await img, face: s.face });

describe('quality signals move the right way under their degradation (22 real faces)', () => {
  it('blur lowers sharpness', () => expectMoves('sharpnessScore', 'down', (s) => same(s, Dg.gaussianBlur(s.img, 2))));
  it('darkening lowers illumination and dynamic range', async () => {
    await expectMoves('illuminationScore', 'down', (s) => same(s, Dg.exposure(s.img, 0.3)));
    await expectMoves('dynamicRangeScore', 'down', (s) => same(s, Dg.exposure(s.img, 0.3)));
  });
  it('over-exposure lowers illumination and raises flare', async () => {
    // Gain 4 saturates even the darkest of these faces (a gain of 2.5 merely corrects an under-exposed one).
    await expectMoves('illuminationScore', 'down', (s) => same(s, Dg.exposure(s.img, 4)));
    let flare = 0;
    for (const s of samples) if (!(await assess(Dg.exposure(s.img, 4), s.face)).noFlare) flare++;
    expect(flare / samples.length).toBeGreaterThanOrEqual(0.95);
  });
  it('noise lowers the noise score', () => expectMoves('noiseScore', 'down', (s) => same(s, Dg.gaussianNoise(s.img, 20))));
  it('a synthetic mask lowers notMaskedScore', () => expectMoves('notMaskedScore', 'down', (s) => same(s, Dg.syntheticMask(s.img, s.face.landmarks))));
  it('closing the eyes lowers both eye-openness scores', async () => {
    const open = (v: number) => v >= 50;
    await expectMoves('leftEyeOpennessScore', 'down', (s) => same(s, Dg.closeEyes(s.img, s.face.landmarks)), open);
    await expectMoves('rightEyeOpennessScore', 'down', (s) => same(s, Dg.closeEyes(s.img, s.face.landmarks)), open);
  });
  it('in-plane rotation raises maxRotationDeviation', async () => {
    // From the face turned upright (its eye line levelled) to the same turned 35° clockwise: the landmark
    // fitter stops following beyond ≈ 45° of roll, so the test starts from upright. The max must rise
    // where the added roll exceeds the face's existing deviation by 10° or more.
    const centre = (img: RgbImage) => ({ x1: img.width / 3, y1: img.height / 3, x2: (2 * img.width) / 3, y2: (2 * img.height) / 3 });
    let moved = 0, movable = 0;
    const stuck: string[] = [];
    for (const s of samples) {
      const [le, re] = fivePoints(s.face.landmarks);
      const upright = await Dg.rotate(s.img, -eyeLineRoll(le, re));
      const f0 = await redetect(upright, centre(upright));
      if (!f0) continue;
      const before = (await assess(upright, f0)).maxRotationDeviation;
      if (before > 25) continue;
      const turned = await Dg.rotate(upright, 35);
      const f1 = await redetect(turned, centre(turned));
      if (!f1) continue;
      movable++;
      const after = (await assess(turned, f1)).maxRotationDeviation;
      if (after > before) moved++;
      else stuck.push(`${s.id}: ${before} → ${after}`);
    }
    expect(movable).toBeGreaterThanOrEqual(12);
    expect(moved / movable, `${moved}/${movable}; did not move: ${stuck.join(', ')}`).toBeGreaterThanOrEqual(0.95);
  });
  it('halving the resolution lowers eyesDistance', () =>
    expectMoves('eyesDistance', 'down', async (s) => {
      const { data, info } = await sharp(s.img.data, { raw: { width: s.img.width, height: s.img.height, channels: 3 } })
        .resize(Math.round(s.img.width / 2)).raw().toBuffer({ resolveWithObject: true });
      const f = s.face;
      const half = { ...f, box: { x1: f.box.x1 / 2, y1: f.box.y1 / 2, x2: f.box.x2 / 2, y2: f.box.y2 / 2 }, landmarks: f.landmarks.map(([x, y]) => [x / 2, y / 2] as const) };
      return { img: { data, width: info.width, height: info.height }, face: half };
    }));
  it('cutting the face with the frame raises the outer margin deviation and lowers the inner one', async () => {
    const cut = async (s: Sample) => {
      const img = await Dg.cutFace(s.img, s.face.box, 0.3, 'left');
      const dx = s.img.width - img.width;
      return { img, face: shift(s.face, dx, 0) };
    };
    await expectMoves('marginOuterDeviation', 'up', cut);
    await expectMoves('marginInnerDeviation', 'down', cut);
  });
  it('a text overlay raises the watermark score', () => expectMoves('watermarkScore', 'up', (s) => same(s, Dg.textWatermark(s.img, s.face.box, 0.4))));
  it('a cluttered background lowers background uniformity', () =>
    expectMoves('backgroundUniformityScore', 'down', (s) => same(s, Dg.clutterBackground(s.img, s.face.box))));

  it('the model-free mask heuristic also sees the synthetic masks', async () => {
    let down = 0;
    for (const s of samples) {
      const five = fivePoints(s.face.landmarks);
      const before = await heuristicMaskSignal.pMask(s.img, alignFace(s.img, five, 112), five);
      const masked = Dg.syntheticMask(s.img, s.face.landmarks);
      if ((await heuristicMaskSignal.pMask(masked, alignFace(masked, five, 112), five)) > before) down++;
    }
    expect(down / samples.length).toBeGreaterThanOrEqual(0.95);
  });

  it('the neutral-expression fallback drops for a widened, lifted or opened mouth', () => {
    let k = 0;
    for (const s of samples) {
      const p = s.face.landmarks.map(([x, y]) => [x, y] as [number, number]);
      const base = neutralFromGeometry(expressionGeometry(p));
      const d = Math.hypot(p[45][0] - p[36][0], p[45][1] - p[36][1]);
      // A broad smile: corners out and up by a fifth of the eye-corner distance, lips parted.
      const smile = p.map(([x, y], i) => (i === 48 || i === 60 ? [x - 0.2 * d, y - 0.2 * d] : i === 54 || i === 64 ? [x + 0.2 * d, y - 0.2 * d] : i === 66 || i === 57 ? [x, y + 0.15 * d] : [x, y]) as [number, number]);
      if (neutralFromGeometry(expressionGeometry(smile)) < base || base < 0.01) k++;
    }
    expect(k).toBe(samples.length);
  });
});

describe('totalScore', () => {
  it('stays above 60 for clean near-frontal faces with open eyes', () => {
    const frontal = samples.map((s) => clean.get(s.id)!).filter((q) => q.maxRotationDeviation <= 20 && q.isLeftEyeOpened && q.isRightEyeOpened);
    expect(frontal.length).toBeGreaterThanOrEqual(5);
    for (const q of frontal) expect(q.totalScore).toBeGreaterThan(60);
  });

  it('falls below 30 for heavy blur and for a face half out of the frame', async () => {
    for (const s of samples) {
      const h = s.face.box.y2 - s.face.box.y1;
      // Heavy blur relative to the face: σ = 4 % of its height (≈ 10 px for these faces).
      expect((await assess(await Dg.gaussianBlur(s.img, 0.04 * h), s.face)).totalScore, s.id).toBeLessThan(30);
      const half = await Dg.cutFace(s.img, s.face.box, 0.5, 'left');
      const face = shift(s.face, s.img.width - half.width, 0);
      expect((await assess(half, face)).totalScore, s.id).toBeLessThan(30);
    }
  });
});

describe('the qaa object', () => {
  it('has all 29 fields: integer scores in range, booleans for the flags', () => {
    const units = new Set(['maxRotationDeviation', 'eyesDistance', 'marginOuterDeviation', 'marginInnerDeviation']);
    for (const q of clean.values()) {
      expect(Object.keys(q).sort()).toEqual([...QualityFields].sort());
      for (const [k, v] of Object.entries(q)) {
        if (!k.endsWith('Score') && !units.has(k)) expect(typeof v, k).toBe('boolean');
        else {
          expect(Number.isInteger(v), k).toBe(true);
          expect(v as number, k).toBeGreaterThanOrEqual(0);
          if (!units.has(k)) expect(v as number, k).toBeLessThanOrEqual(100);
        }
      }
    }
  });

  it('takes its thresholds from the parameters', async () => {
    const s = samples[0];
    const strict = await createQualityAssessor(qualityParamsFrom({ eyes_distance_threshold: 10_000, rotation_threshold: 0, blur_threshold: 101 - 1, quality_threshold: 30 }));
    const q = await assess(s.img, s.face, strict);
    expect(q.isEyesDistanceAcceptable).toBe(false);
    expect(q.isRotationAcceptable).toBe(q.maxRotationDeviation === 0);
    expect(q.isSharp).toBe(q.sharpnessScore >= 100);
    expect(() => qualityParamsFrom({ blur_threshold: 'high' })).toThrow();
  });
});

describe.skipIf(!hasDataset('face_verification'))('on face_verification photos (../shared/data)', () => {
  it('blur, darkening and noise move their scores on ≥ 95 % of every sixth image', async () => {
    const root = join(dataRoot(), 'face_verification');
    const files = readCsv(join(root, 'identities.csv')).map((r) => r.file).filter((_, i) => i % 6 === 0);
    const counts = { sharp: 0, light: 0, noise: 0, n: 0 };
    for (const file of files) {
      const img = await decode(readFileSync(join(root, file)));
      const face = (await capturer.capture(img)).sort((a, b) => b.box.y2 - b.box.y1 - (a.box.y2 - a.box.y1))[0];
      if (!face) continue;
      const q0 = await assess(img, face);
      counts.n++;
      // Blur in proportion to the face (these range from 100 to 600 px): σ = 2 % of its height.
      const sigma = 0.02 * (face.box.y2 - face.box.y1);
      if ((await assess(await Dg.gaussianBlur(img, sigma), face)).sharpnessScore < q0.sharpnessScore) counts.sharp++;
      if ((await assess(Dg.exposure(img, 0.3), face)).illuminationScore < q0.illuminationScore) counts.light++;
      if ((await assess(Dg.gaussianNoise(img, 20), face)).noiseScore < q0.noiseScore) counts.noise++;
    }
    expect(counts.n, `${files.length} files`).toBeGreaterThanOrEqual(15);
    const rates = JSON.stringify(counts);
    for (const k of ['sharp', 'light', 'noise'] as const) expect(counts[k] / counts.n, `${k}: ${rates}`).toBeGreaterThanOrEqual(0.95);
  });
});
