import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * CPUs this process may use: the cgroup v2 quota when one is set (a Knative pod with a CPU limit),
 * otherwise the cores Node sees. Node 20's availableParallelism() ignores the quota, and a pod limited
 * to one CPU on a 64-core node would otherwise start 64 workers.
 */
export function cpuQuota(cpuMax = readCpuMax()): number {
  const cores = availableParallelism();
  const m = /^(\d+)\s+(\d+)/.exec(cpuMax ?? '');
  if (!m) return cores;
  const quota = Number(m[1]) / Number(m[2]);
  return Math.max(1, Math.min(cores, Math.ceil(quota - 0.05)));
}

function readCpuMax(): string | undefined {
  try {
    return readFileSync('/sys/fs/cgroup/cpu.max', 'utf8');
  } catch {
    return undefined;
  }
}
