/**
 * `npm run eval -- <task> [<task> …]`: accuracy on the labelled images in ../shared/data (or
 * IMAGE_API_DATA), measured through HTTP against a server started from the built code.
 * Tasks: verification, detection. `all` runs every task whose data set is present.
 */
import { detectionReport, evalDetection } from './eval/detection.js';
import { verificationDistances, verificationReport } from './eval/verification.js';
import { dataRoot, hasDataset } from './lib/datasets.js';
import { startServer } from './lib/server-process.js';

const TASKS: Record<string, { dataset: string; run: () => Promise<string> }> = {
  verification: {
    dataset: 'face_verification',
    run: async () => {
      const server = await startServer();
      try {
        return verificationReport(await verificationDistances(server.url));
      } finally {
        await server.stop();
      }
    },
  },
  detection: { dataset: 'face_detection_masks', run: async () => detectionReport(await evalDetection()) },
};

async function main(): Promise<void> {
  let names = process.argv.slice(2);
  if (names.length === 0 || names.includes('all')) names = Object.keys(TASKS);
  for (const name of names) {
    const task = TASKS[name];
    if (!task) {
      console.error(`eval: unknown task "${name}"; tasks: ${Object.keys(TASKS).join(', ')}, all`);
      process.exit(2);
    }
    if (!hasDataset(task.dataset)) {
      console.log(`eval ${name}: skipped, ${task.dataset} not found under ${dataRoot()}`);
      continue;
    }
    const started = Date.now();
    console.log(`\n## ${name}\n`);
    console.log(await task.run());
    console.log(`\n(${((Date.now() - started) / 1000).toFixed(1)} s)`);
  }
}

main().catch((e: unknown) => {
  console.error(e instanceof Error ? e.message : e);
  process.exit(1);
});
