import { livenessValues } from '../../scripts/eval/tasks/liveness.js';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dataRoot, hasDataset, readCsv } from '../../scripts/lib/datasets.js';
import { postImage, postSample, startServer, type ServerProcess } from '../../scripts/lib/server-process.js';
import { Messages } from '../../shared/contract/errors.js';
import { LivenessValues } from '../../shared/contract/objects.js';
import { demoPhoto } from '../support/fixtures.js';

/** The three modules of the liveness service, each behind its own server process (dist/ build). */

const MODULES = ['face-detector-liveness-estimator', 'liveness-anti-spoofing', 'quality-liveness-anti-spoofing'] as const;
const PATH = '/face-detector-liveness-estimator/process';


/** One near-frontal face alone in a 640×480 frame: cut from demo sample5 around its fifth face. */
const oneFace = () => sharp(demoPhoto(5)).extract({ left: 542, top: 0, width: 660, height: 495 }).resize(640, 480).jpeg({ quality: 90 }).toBuffer();

const servers = new Map<string, ServerProcess>();
let single: Buffer;

beforeAll(async () => {
  single = await oneFace();
  await Promise.all(MODULES.map(async (m) => servers.set(m, await startServer({ values: livenessValues(m) }))));
});

afterAll(async () => {
  await Promise.all([...servers.values()].map((s) => s.stop()));
});

const url = (m: string) => servers.get(m)!.url;

function expectLivenessFaces(objects: Record<string, unknown>[] | undefined, atLeast = 1) {
  const faces = (objects ?? []).filter((o) => o.class === 'face');
  expect(faces.length).toBeGreaterThanOrEqual(atLeast);
  for (const f of faces) {
    const l = f.liveness as { value: string; confidence: number };
    expect(LivenessValues).toContain(l.value);
    expect(l.confidence).toBeGreaterThanOrEqual(0);
    expect(l.confidence).toBeLessThanOrEqual(1);
    // The fitter's fields come along.
    expect(f.bbox).toHaveLength(4);
    expect((f.fitter as { keypoints: number[] }).keypoints).toHaveLength(63);
    expect(f.angles).toBeDefined();
  }
  return faces;
}

describe.each(MODULES)('%s', (module) => {
  it('answers process/image and process/sample with a valid liveness per face', async () => {
    const image = await postImage(url(module), `${PATH}/image`, single);
    expect(image.status, JSON.stringify(image.body)).toBe(200);
    expect(expectLivenessFaces(image.body.objects)).toHaveLength(1);
    const sample = await postSample(url(module), `${PATH}/sample`, { $image: single.toString('base64') });
    expect(sample.status).toBe(200);
    expect(sample.body.objects).toEqual(image.body.objects);
  });

  it("keeps the client's objects and adds the faces after them", async () => {
    const body = { class: 'body', id: 4, bbox: [0.1, 0.1, 0.5, 0.9], note: 'kept' };
    const r = await postSample(url(module), `${PATH}/sample`, { $image: single.toString('base64'), objects: [body] });
    expect(r.status).toBe(200);
    expect(r.body.objects![0]).toEqual(body);
    expect(expectLivenessFaces(r.body.objects)[0].id).toBe(5);
  });
});

describe('the quality gate (quality-liveness-anti-spoofing)', () => {
  const gate = () => url('quality-liveness-anti-spoofing');

  it('refuses a heavily blurred face with the original message, naming the score and the threshold', async () => {
    // σ 6 px on this 200-px face (3 % of its height): about the strongest blur at which the detector still finds it.
    const blurred = await sharp(single).blur(6).jpeg({ quality: 90 }).toBuffer();
    const r = await postImage(gate(), `${PATH}/image`, blurred);
    expect(r.status).toBe(400);
    const m = /^Low image quality\. Calculated score value \((\d+)\) is less than the threshold \(30\)$/.exec(String(r.body.detail));
    expect(m, String(r.body.detail)).not.toBeNull();
    const score = Number(m![1]);
    expect(score).toBeLessThan(30);
    expect(r.body.detail).toBe(Messages.lowQuality(score, 30));
  });

  it('lets the clean face through to liveness', async () => {
    const r = await postImage(gate(), `${PATH}/image`, single);
    expect(r.status).toBe(200);
    expectLivenessFaces(r.body.objects);
  });

  it('refuses more than one face', async () => {
    const r = await postSample(gate(), `${PATH}/sample`, { $image: demoPhoto(1).toString('base64') });
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ detail: Messages.manyFaces });
  });

  it('the other modules judge every face of a group photo', async () => {
    for (const m of ['face-detector-liveness-estimator', 'liveness-anti-spoofing']) {
      const r = await postSample(url(m), `${PATH}/sample`, { $image: demoPhoto(1).toString('base64') });
      expect(r.status).toBe(200);
      expectLivenessFaces(r.body.objects, 2);
    }
  });
});

describe.skipIf(!hasDataset('liveness_nuaa'))('NUAA print attacks (../shared/data, dev split)', () => {
  it('the standard module reaches ACER ≤ 5 % at its shipped threshold', async () => {
    const root = join(dataRoot(), 'liveness_nuaa');
    let realOk = 0, real = 0, spoofAccepted = 0, spoof = 0;
    for (const row of readCsv(join(root, 'labels.csv'))) {
      const r = await postSample(url('face-detector-liveness-estimator'), `${PATH}/sample`, { $image: readFileSync(join(root, row.file)).toString('base64') });
      const faces = (r.body.objects ?? []).filter((o) => o.class === 'face');
      const area = (o: Record<string, unknown>) => ((o.bbox as number[])[2] - (o.bbox as number[])[0]) * ((o.bbox as number[])[3] - (o.bbox as number[])[1]);
      const largest = faces.sort((a, b) => area(b) - area(a))[0];
      const isReal = (largest?.liveness as { value: string } | undefined)?.value === 'REAL';
      if (row.label === 'real') {
        real++;
        if (isReal) realOk++;
      } else {
        spoof++;
        if (isReal) spoofAccepted++;
      }
    }
    const apcer = spoofAccepted / spoof, bpcer = 1 - realOk / real;
    expect(real + spoof).toBeGreaterThan(200);
    expect((apcer + bpcer) / 2, `APCER ${apcer}, BPCER ${bpcer}`).toBeLessThanOrEqual(0.05);
  });
});
