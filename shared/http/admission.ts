/** A place in the admission: `admitted` resolves once the request may run; `release` gives the place back. */
export interface Ticket {
  admitted: Promise<void>;
  /** Idempotent. While still queued it leaves the queue (a client that hung up must not hold a place). */
  release(): void;
}

interface Entry {
  state: 'waiting' | 'running' | 'done';
  start(): void;
}

/**
 * Bounded admission: at most `concurrent` requests run, at most `queued` wait; the rest are refused at
 * once (503 + Retry-After) instead of piling up in memory.
 */
export class Admission {
  private running = 0;
  private readonly waiting: Entry[] = [];

  constructor(
    private readonly concurrent: number,
    private readonly queued: number,
  ) {}

  get inFlight(): number {
    return this.running + this.waiting.length;
  }

  /** A ticket, or `null` when the queue is full. */
  enter(): Ticket | null {
    let start!: () => void;
    const admitted = new Promise<void>((resolve) => (start = resolve));
    const entry: Entry = { state: 'waiting', start };
    if (this.running < this.concurrent) {
      this.running++;
      entry.state = 'running';
      start();
    } else if (this.waiting.length < this.queued) {
      this.waiting.push(entry);
    } else {
      return null;
    }
    return { admitted, release: () => this.release(entry) };
  }

  private release(entry: Entry): void {
    if (entry.state === 'waiting') {
      this.waiting.splice(this.waiting.indexOf(entry), 1);
    } else if (entry.state === 'running') {
      const next = this.waiting.shift();
      if (next) {
        next.state = 'running';
        next.start();
      } else {
        this.running--;
      }
    }
    entry.state = 'done';
  }
}

/**
 * Decoded pixels in flight, per process, at most `capacity` (MAX_IMAGE_PIXELS): the decoded image and
 * libvips' transient copy while it decodes dominate a request's memory, so two requests with the
 * largest allowed image run one after the other while ordinary photos still run side by side.
 * First come, first served: a large image is not overtaken by a stream of small ones.
 */
export class PixelBudget {
  private used = 0;
  private readonly waiting: { pixels: number; start: () => void }[] = [];

  constructor(private readonly capacity: number) {}

  /** Resolves with a release function (idempotent) once `pixels` fit. */
  async take(pixels: number): Promise<() => void> {
    const n = Math.min(Math.max(0, pixels), this.capacity);
    if (this.waiting.length > 0 || this.used + n > this.capacity) {
      await new Promise<void>((start) => this.waiting.push({ pixels: n, start }));
    } else {
      this.used += n;
    }
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.used -= n;
      this.admitWaiting();
    };
  }

  private admitWaiting(): void {
    while (this.waiting.length > 0 && this.used + this.waiting[0].pixels <= this.capacity) {
      const next = this.waiting.shift()!;
      this.used += next.pixels;
      next.start();
    }
  }
}
