// Errors the converter raises on purpose. Anything the converter cannot map exactly is an
// UnsupportedOpError: a refused conversion is recoverable, a subtly wrong graph is not.

export class UnsupportedOpError extends Error {
  readonly op: string;
  readonly node: string;

  constructor(op: string, node: string, detail?: string) {
    super(`unsupported TF op '${op}' at node '${node}'${detail ? `: ${detail}` : ''}`);
    this.name = 'UnsupportedOpError';
    this.op = op;
    this.node = node;
  }
}
