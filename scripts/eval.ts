/**
 * `npm run eval -- <task> [<task> …]`: accuracy on the labelled images in ../shared/data (or
 * IMAGE_API_DATA), measured through HTTP against servers started from the built code.
 * Each task is a file in scripts/eval/tasks/; `all` (the default) runs every task whose data is present.
 */
import { readdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { EvalTask } from './eval/task.js';
import { dataRoot, hasDataset } from './lib/datasets.js';

async function loadTasks(): Promise<Map<string, EvalTask>> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'eval', 'tasks');
  const tasks = new Map<string, EvalTask>();
  for (const file of readdirSync(dir).filter((f) => f.endsWith('.js')).sort()) {
    const task = ((await import(join(dir, file))) as { default: EvalTask }).default;
    tasks.set(task.name, task);
  }
  return tasks;
}

async function main(): Promise<void> {
  const tasks = await loadTasks();
  let names = process.argv.slice(2);
  if (names.length === 0 || names.includes('all')) names = [...tasks.keys()];
  for (const name of names) {
    const task = tasks.get(name);
    if (!task) {
      console.error(`eval: unknown task "${name}"; tasks: ${[...tasks.keys()].join(', ')}, all`);
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
