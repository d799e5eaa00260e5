/** One `npm run eval` task: a file in scripts/eval/tasks/ whose default export is this. */
export interface EvalTask {
  name: string;
  /** Folder under ../shared/data it needs; the task is skipped when absent. */
  dataset: string;
  /** Runs the evaluation (starting its own servers) and returns a Markdown report. */
  run(): Promise<string>;
}
