// CLI: node dist/scripts/tfjs-to-onnx/cli.js <model.json> <out.onnx> [--fp32] | --list-ops
// Exit codes: 0 ok, 2 usage, 3 graph has an op the converter refuses (UnsupportedOpError).

import { writeFileSync } from 'node:fs';
import { UnsupportedOpError, convertGraphModelWithReport } from './convert.js';
import { supportedOps } from './ops/index.js';

function main(argv: string[]): number {
  const args = argv.filter((a) => !a.startsWith('--'));
  const flags = new Set(argv.filter((a) => a.startsWith('--')));
  if (flags.has('--list-ops')) {
    process.stdout.write(`${supportedOps().join('\n')}\n`);
    return 0;
  }
  if (args.length !== 2 || flags.has('--help')) {
    process.stderr.write(
      'usage: cli.js <model.json> <out.onnx> [--fp32]\n' +
        '       cli.js --list-ops\n' +
        '  --fp32      widen fp16 weights to float32 initialisers (larger file, same numbers)\n' +
        '  --list-ops  print the TF ops the converter maps\n',
    );
    return 2;
  }
  const [input, output] = args;
  try {
    const { bytes, report } = convertGraphModelWithReport(input, { keepFp16: !flags.has('--fp32') });
    writeFileSync(output, bytes);
    const io = (t: { name: string; dtype: string; dims?: (number | string | null)[] }): string =>
      `${t.name} ${t.dtype}[${t.dims ? t.dims.map((d) => d ?? '?').join(',') : '?'}]`;
    process.stdout.write(
      [
        `${output}: ${(bytes.byteLength / 1e6).toFixed(2)} MB, ${report.nodeCount} nodes, ${report.initializerCount} initialisers (${report.fp16Initializers} fp16), ${report.foldedNodes} TF nodes folded`,
        `inputs:  ${report.inputs.map(io).join('; ')}`,
        `outputs: ${report.outputs.map(io).join('; ')}`,
      ].join('\n') + '\n',
    );
    return 0;
  } catch (e) {
    if (e instanceof UnsupportedOpError) {
      process.stderr.write(`${e.message}\n`);
      return 3;
    }
    throw e;
  }
}

process.exitCode = main(process.argv.slice(2));
