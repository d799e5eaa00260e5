import { startServer } from '../../lib/server-process.js';
import { attributesValues, evalAgeGender, genderReport, genderSummary } from '../attributes.js';
import type { EvalTask } from '../task.js';

/** Gender accuracy on the UTKFace chips through gender-estimator, for both ways a client can send a chip. */
const task: EvalTask = {
  name: 'gender',
  dataset: 'age_gender_utkface',
  async run() {
    const server = await startServer({ values: attributesValues() });
    try {
      const whole = genderSummary(await evalAgeGender(server.url, { flow: 'whole', services: ['gender'] }));
      const detect = genderSummary(await evalAgeGender(server.url, { flow: 'detect', services: ['gender'] }));
      return [
        `age_gender_utkface (dev split), gender-estimator through HTTP; 200×200 "aligned & cropped" chips`,
        '',
        genderReport('process/sample, no objects (the whole chip is the face)', whole),
        '',
        genderReport('process/image (faces detected first, min_size 20; largest face; no face counts as wrong)', detect),
      ].join('\n');
    } finally {
      await server.stop();
    }
  },
};
export default task;
