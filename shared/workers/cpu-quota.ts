import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/**
 * CPUs this process may use: the cgroup quota when one is set (a pod with a CPU limit), otherwise the
 * cores Node sees. Node 20's availableParallelism() ignores the quota, and a pod limited to one CPU on
 * a 64-core node would otherwise start 64 workers. `cpuMax` is cgroup v2's cpu.max ("quota period" or
 * "max period"); cgroup v1's cfs_quota_us / cfs_period_us are read when v2's file is absent.
 */
export function cpuQuota(cpuMax = readCpuMax(), cores = availableParallelism()): number {
  const m = /^(\d+)\s+(\d+)/.exec(cpuMax ?? '');
  if (!m || Number(m[2]) <= 0) return cores;
  const quota = Number(m[1]) / Number(m[2]);
  return Math.max(1, Math.min(cores, Math.ceil(quota - 0.05)));
}

function read(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8').trim();
  } catch {
    return undefined;
  }
}

function readCpuMax(): string | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max');
  if (v2 !== undefined) return v2;
  const quota = read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us');
  const period = read('/sys/fs/cgroup/cpu/cpu.cfs_period_us');
  return quota !== undefined && period !== undefined && Number(quota) > 0 ? `${quota} ${period}` : undefined;
}
