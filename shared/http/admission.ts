/**
 * Bounded admission: at most `concurrent` requests run, at most `queued` wait; the rest are refused at
 * once (503 + Retry-After) instead of piling up in memory.
 */
export class Admission {
  private running = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(
    private readonly concurrent: number,
    private readonly queued: number,
  ) {}

  get inFlight(): number {
    return this.running + this.waiting.length;
  }

  /** Resolves with a release function once the request may run; `null` when the queue is full. */
  enter(): Promise<() => void> | null {
    if (this.running < this.concurrent) {
      this.running++;
      return Promise.resolve(this.releaser());
    }
    if (this.waiting.length >= this.queued) return null;
    return new Promise((resolve) => this.waiting.push(() => resolve(this.releaser())));
  }

  private releaser(): () => void {
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const next = this.waiting.shift();
      if (next) next();
      else this.running--;
    };
  }
}
