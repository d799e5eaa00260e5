import { startServer } from '../../lib/server-process.js';
import type { EvalTask } from '../task.js';
import { verificationDistances, verificationReport } from '../verification.js';

const task: EvalTask = {
  name: 'verification',
  dataset: 'face_verification',
  async run() {
    const server = await startServer();
    try {
      return verificationReport(await verificationDistances(server.url));
    } finally {
      await server.stop();
    }
  },
};
export default task;
