#!/usr/bin/env node
// `npx image-api …`: the CLI is TypeScript, compiled to dist/ by `npm install` (postinstall) or `npm run build`.
import { existsSync } from 'node:fs';

const entry = new URL('../dist/scripts/image-api-cli.js', import.meta.url);
if (!existsSync(entry)) {
  console.error('image-api: dist/ is not built; run `npm run build` first');
  process.exit(1);
}
const { run } = await import(entry.href);
process.exitCode = run(process.argv.slice(2));
