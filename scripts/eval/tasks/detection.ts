import { detectionReport, evalDetection } from '../detection.js';
import type { EvalTask } from '../task.js';

const task: EvalTask = {
  name: 'detection',
  dataset: 'face_detection_masks',
  run: async () => detectionReport(await evalDetection()),
};
export default task;
