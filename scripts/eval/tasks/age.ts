import { startServer } from '../../lib/server-process.js';
import { ageReport, ageSummary, attributesValues, evalAgeGender } from '../attributes.js';
import type { EvalTask } from '../task.js';

/** Age MAE on the UTKFace chips through age-estimator, for both ways a client can send a chip. */
const task: EvalTask = {
  name: 'age',
  dataset: 'age_gender_utkface',
  async run() {
    const server = await startServer({ values: attributesValues() });
    try {
      const whole = ageSummary(await evalAgeGender(server.url, { flow: 'whole', services: ['age'] }));
      const detect = ageSummary(await evalAgeGender(server.url, { flow: 'detect', services: ['age'] }));
      return [
        `age_gender_utkface (dev split), age-estimator through HTTP; 200×200 "aligned & cropped" chips`,
        '',
        ageReport('process/sample, no objects (the whole chip is the face)', whole),
        '',
        ageReport('process/image (faces detected first, min_size 20; largest face)', detect),
      ].join('\n');
    } finally {
      await server.stop();
    }
  },
};
export default task;
