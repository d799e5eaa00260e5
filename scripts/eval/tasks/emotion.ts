import { hasDataset } from '../../lib/datasets.js';
import { startServer } from '../../lib/server-process.js';
import { attributesValues, emotionReport, emotionSummary, evalEmotion, type EmotionDataset, type EmotionModelChoice } from '../attributes.js';
import type { EvalTask } from '../task.js';

/** FER-2013 (7 classes) and CK+ (6 shared classes, contempt left out) through emotion-estimator, for both models. */
const task: EvalTask = {
  name: 'emotion',
  dataset: 'emotion_fer2013',
  async run() {
    const parts: string[] = ['48×48 grey chips sent to emotion-estimator/process/sample with no objects (the chip is the face), dev split'];
    for (const model of ['fr_expression', 'emotion'] as EmotionModelChoice[]) {
      const server = await startServer({ values: attributesValues({ emotionModel: model }) });
      try {
        for (const dataset of ['emotion_fer2013', 'emotion_ckplus'] as EmotionDataset[]) {
          if (!hasDataset(dataset)) continue;
          parts.push('', emotionReport(`${dataset}, model ${model}`, emotionSummary(await evalEmotion(server.url, dataset), dataset)));
        }
      } finally {
        await server.stop();
      }
    }
    return parts.join('\n');
  },
};
export default task;
