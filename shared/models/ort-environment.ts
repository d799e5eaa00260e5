/**
 * Imported before onnxruntime-node: left alone, it writes a device id and a telemetry database under
 * $HOME/.cache. A server that handles faces writes nothing to disk.
 */
process.env.ORT_DISABLE_TELEMETRY ??= '1';

export {};
