/**
 * CI floors for the attribute services: the eval logic of `npm run eval -- age gender emotion`, on the
 * whole dev split, through HTTP against one server (dist/ build). Needs ../shared/data (or
 * IMAGE_API_DATA); skipped cleanly without it. Every chip goes in with no objects (the chip is the face).
 * Measured when written: age MAE 7.83, gender 87.5 %, FER-2013 66.7 %, CK+ 65.5 %; about 70 s in all
 * (311 + 282 + 226 chips, no subsampling). Timeouts leave room for a busy 2-core machine.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ageSummary, attributesValues, emotionSummary, evalAgeGender, evalEmotion, genderSummary, type AgeGenderItem } from '../../scripts/eval/attributes.js';
import { hasDataset } from '../../scripts/lib/datasets.js';
import { startServer, type ServerProcess } from '../../scripts/lib/server-process.js';

const FLOORS = { ageMae: 8.5, gender: 0.85, fer2013: 0.57, ckplus: 0.62 };
const present = hasDataset('age_gender_utkface') && hasDataset('emotion_fer2013') && hasDataset('emotion_ckplus');

describe.skipIf(!present)('attribute accuracy floors (dev split, through HTTP)', () => {
  let server: ServerProcess;
  let utk: AgeGenderItem[];

  beforeAll(async () => {
    server = await startServer({ values: attributesValues({ emotionModel: 'fr_expression' }) });
    // Age, then gender, per chip: the second request is answered from the shared faceres cache.
    utk = await evalAgeGender(server.url, { flow: 'whole', services: ['age', 'gender'] });
  }, 120_000);

  afterAll(async () => {
    await server?.stop();
  });

  it(`age MAE ≤ ${FLOORS.ageMae} years on UTKFace`, () => {
    const s = ageSummary(utk);
    expect(s.found).toBe(s.n);
    expect(s.mae).toBeLessThanOrEqual(FLOORS.ageMae);
  });

  it(`gender accuracy ≥ ${Math.round(FLOORS.gender * 100)} % on UTKFace`, () => {
    expect(genderSummary(utk).accuracy).toBeGreaterThanOrEqual(FLOORS.gender);
  });

  it(`FER-2013 accuracy ≥ ${Math.round(FLOORS.fer2013 * 100)} % (7 classes, fr_expression)`, async () => {
    const s = emotionSummary(await evalEmotion(server.url, 'emotion_fer2013'), 'emotion_fer2013');
    expect(s.accuracy).toBeGreaterThanOrEqual(FLOORS.fer2013);
  }, 120_000);

  it(`CK+ accuracy ≥ ${Math.round(FLOORS.ckplus * 100)} % (6 classes shared with the contract, fr_expression)`, async () => {
    const s = emotionSummary(await evalEmotion(server.url, 'emotion_ckplus'), 'emotion_ckplus');
    expect(s.accuracy).toBeGreaterThanOrEqual(FLOORS.ckplus);
  }, 120_000);
});
