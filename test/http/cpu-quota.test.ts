import { describe, expect, it } from 'vitest';
import { cpuQuota } from '../../shared/workers/cpu-quota.js';

describe('cpuQuota (how many module workers "auto" starts)', () => {
  it('follows a cgroup CPU limit, rounded up, never above the cores seen nor below one', () => {
    expect(cpuQuota('200000 100000', 8)).toBe(2);
    expect(cpuQuota('150000 100000', 8)).toBe(2);
    expect(cpuQuota('50000 100000', 8)).toBe(1);
    expect(cpuQuota('1600000 100000', 4)).toBe(4);
  });

  it('uses the cores seen when there is no limit or no cgroup file', () => {
    expect(cpuQuota('max 100000', 6)).toBe(6);
    expect(cpuQuota(undefined, 3)).toBe(3);
    expect(cpuQuota('garbage', 2)).toBe(2);
  });
});
