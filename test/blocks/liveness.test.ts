import { beforeAll, describe, expect, it } from 'vitest';
import { FaceCapturer, type CapturedFace } from '../../shared/blocks/face-capturer.js';
import { cropSquare, LivenessEstimator, screenVeto, spectralPeak } from '../../shared/blocks/liveness.js';
import { recapture } from '../../shared/blocks/quality/degradations.js';
import { resolveConfigObject, type CapturerParams, type LivenessParams } from '../../shared/config/config-object.js';
import { decodeImage } from '../../shared/image/decode.js';
import type { RgbImage } from '../../shared/image/rgb-image.js';
import { demoPhoto } from '../support/fixtures.js';

const livenessParams = (over: Record<string, unknown> = {}) => resolveConfigObject('liveness_2d_estimator_v3.xml', over, 'test').params as LivenessParams;

let capturer: FaceCapturer;
let liveness: LivenessEstimator;
const photos: { img: RgbImage; faces: CapturedFace[] }[] = [];

beforeAll(async () => {
  capturer = await FaceCapturer.create(resolveConfigObject('common_capturer_uld_fda.xml', { min_size: 20 }, 'test').params as CapturerParams);
  liveness = await LivenessEstimator.create(livenessParams());
  for (const i of [1, 5, 6]) {
    const img = await decodeImage(demoPhoto(i), { maxPixels: 40_000_000 });
    photos.push({ img, faces: await capturer.capture(img) });
  }
});

describe('liveness crop geometry', () => {
  it('measures the share of the ×2.7 square outside the image', () => {
    expect(cropSquare({ x1: 400, y1: 300, x2: 500, y2: 400 }, 2.7, 1000, 1000).outside).toBe(0);
    // A 100-px face centred on the left border: half of its 270-px square is outside.
    expect(cropSquare({ x1: -50, y1: 400, x2: 50, y2: 500 }, 2.7, 1000, 1000).outside).toBeCloseTo(0.5, 5);
  });
});

describe('liveness gate (NOT_ENOUGH_DATA)', () => {
  const img: RgbImage = { data: new Uint8Array(640 * 480 * 3), width: 640, height: 480 };
  const frontal = { yaw: 0, pitch: 0, roll: 0 };

  it('refuses faces that are too small, cut off, or turned too far, and only those', async () => {
    const ok = { box: { x1: 270, y1: 190, x2: 370, y2: 290 }, angles: frontal };
    expect(liveness.gate(img, ok)).toBeNull();
    expect(liveness.gate(img, { ...ok, box: { x1: 300, y1: 220, x2: 340, y2: 260 } })).toMatch(/smaller/);
    expect(liveness.gate(img, { ...ok, box: { x1: -40, y1: 190, x2: 60, y2: 290 } })).toMatch(/outside/);
    expect(liveness.gate(img, { ...ok, angles: { ...frontal, yaw: 50 } })).toMatch(/yaw/);
    expect(liveness.gate(img, { ...ok, angles: { ...frontal, pitch: -40 } })).toMatch(/pitch/);
    const result = await liveness.standard(img, { ...ok, angles: { ...frontal, yaw: 50 } });
    expect(result).toMatchObject({ value: 'NOT_ENOUGH_DATA', confidence: 0, pLive: null });
  });

  it('follows its parameters', async () => {
    const lenient = await LivenessEstimator.create(livenessParams({ min_face_size: 10, max_yaw: 90 }));
    expect(lenient.gate(img, { box: { x1: 300, y1: 220, x2: 340, y2: 260 }, angles: { ...frontal, yaw: 50 } })).toBeNull();
  });
});

describe('liveness on real faces', () => {
  it('answers REAL or FAKE with the probability of that answer, consistent with the threshold', async () => {
    let judged = 0;
    for (const { img, faces } of photos) {
      for (const face of faces) {
        for (const r of [await liveness.standard(img, face), await liveness.antiSpoofing(img, face)]) {
          if (r.value === 'NOT_ENOUGH_DATA') continue;
          judged++;
          expect(r.pLive).not.toBeNull();
          expect(r.value === 'REAL').toBe(r.pLive! >= liveness.params.threshold);
          expect(r.confidence).toBeCloseTo(r.value === 'REAL' ? r.pLive! : 1 - r.pLive!, 10);
        }
      }
    }
    expect(judged).toBeGreaterThan(10);
  });

  it('reads the face in BGR: most of these genuine faces score live', async () => {
    let live = 0, n = 0;
    for (const { img, faces } of photos) {
      for (const face of faces) {
        n++;
        if ((await liveness.pLive(img, face.box, { scale: 2.7 })) >= 0.5) live++;
      }
    }
    expect(live / n).toBeGreaterThanOrEqual(0.8);
  });

  it('the print-screen cue rises on a halftone re-capture and stays silent on the genuine faces', async () => {
    for (const { img, faces } of photos) {
      const screened = await recapture(img, 'halftone');
      for (const face of faces) {
        const clean = spectralPeak(img, face.box);
        expect(screenVeto(clean), `clean peak ${clean.toFixed(0)}`).toBe(0);
        expect(spectralPeak(screened, face.box)).toBeGreaterThan(clean);
      }
    }
  });
});
