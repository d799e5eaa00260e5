import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postImage, postSample, startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { QualityFields } from '../../shared/contract/objects.js';
import { demoPhoto } from '../support/fixtures.js';

/** quality-assessment-estimator through HTTP (separate process, dist/ build), on every route of the estimator flow. */

const PATH = '/quality-assessment-estimator/process';
let server: ServerProcess;
let single: Buffer;

beforeAll(async () => {
  single = await sharp(demoPhoto(5)).extract({ left: 542, top: 0, width: 660, height: 495 }).resize(640, 480).jpeg({ quality: 90 }).toBuffer();
  server = await startServer({
    values: `processing:\n  services:\n    quality-assessment-estimator:\n      configs:\n        - name: common_capturer_uld_fda.xml\n          params: { min_size: 60 }\n`,
  });
});

afterAll(async () => {
  await server.stop();
});

type Qaa = Record<string, number | boolean>;
const qaaOf = (o: Record<string, unknown>) => (o.quality as { qaa: Qaa }).qaa;

function expectQaa(q: Qaa) {
  expect(Object.keys(q).sort()).toEqual([...QualityFields].sort());
  for (const [k, v] of Object.entries(q)) {
    if (k.endsWith('Score')) {
      expect(Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 100, `${k} = ${v}`).toBe(true);
    } else if (['maxRotationDeviation', 'eyesDistance', 'marginOuterDeviation', 'marginInnerDeviation'].includes(k)) {
      expect(Number.isInteger(v) && (v as number) >= 0, `${k} = ${v}`).toBe(true);
    } else {
      expect(typeof v, k).toBe('boolean');
    }
  }
}

describe('quality-assessment-estimator over HTTP', () => {
  it('process/image detects the face and adds quality.qaa to the fitter fields', async () => {
    const r = await postImage(server.url, `${PATH}/image`, single);
    expect(r.status).toBe(200);
    const [face] = r.body.objects!;
    expect(r.body.objects).toHaveLength(1);
    expect(face).toMatchObject({ class: 'face', fitter: { fitter_type: 'fda' } });
    expectQaa(qaaOf(face));
    expect(qaaOf(face).totalScore).toBeGreaterThan(60);
  });

  it("process/sample judges the client's face objects where they say, and passes other objects through", async () => {
    const detected = (await postImage(server.url, `${PATH}/image`, single)).body.objects![0];
    const { quality: _q, ...face } = detected;
    const body = { id: 7, class: 'body', bbox: [0, 0, 1, 1] };
    const r = await postSample(server.url, `${PATH}/sample`, { $image: single.toString('base64'), objects: [face, body] });
    expect(r.status).toBe(200);
    expect(r.body.objects![1]).toEqual(body);
    const q = qaaOf(r.body.objects![0]);
    expectQaa(q);
    // The same face judged from the client's fda points: geometry-driven fields agree with the detected run.
    expect(q.eyesDistance).toBe(qaaOf(detected).eyesDistance);
    expect(Math.abs((q.totalScore as number) - (qaaOf(detected).totalScore as number))).toBeLessThanOrEqual(10);
  });

  it('process/sample without objects treats the whole image as the face (a tight crop has no margins)', async () => {
    const crop = await sharp(single).extract({ left: 200, top: 80, width: 240, height: 300 }).jpeg().toBuffer();
    const r = await postSample(server.url, `${PATH}/sample`, { $image: crop.toString('base64') });
    expect(r.status).toBe(200);
    expect(r.body.objects).toHaveLength(1);
    const q = qaaOf(r.body.objects![0]);
    expectQaa(q);
    expect(q.isMarginsAcceptable).toBe(false);
    expect(q.marginOuterDeviation).toBeGreaterThan(0);
  });
});
