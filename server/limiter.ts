/**
 * Admission control for inference: at most `concurrent` requests compute, at most `queue` wait;
 * a request beyond that is refused at once with Busy (429 + Retry-After) instead of piling up.
 */
import { ServeError } from './errors.js';

export class Limiter {
  readonly #concurrent: number;
  readonly #queue: number;
  readonly #waiting: (() => void)[] = [];
  #active = 0;
  readonly #onChange: (active: number, waiting: number) => void;

  constructor(concurrent: number, queue: number, onChange: (active: number, waiting: number) => void) {
    this.#concurrent = concurrent;
    this.#queue = queue;
    this.#onChange = onChange;
  }

  get active(): number {
    return this.#active;
  }
  get waiting(): number {
    return this.#waiting.length;
  }

  /** Runs `fn` when a slot is free; rejects with Busy if the queue is full or Aborted on `signal`. */
  async run<T>(fn: () => Promise<T>, signal?: AbortSignal): Promise<T> {
    // A woken waiter inherits the finishing request's slot (#active unchanged), so no newcomer
    // can slip in between and exceed the limit.
    if (this.#active >= this.#concurrent) {
      if (this.#waiting.length >= this.#queue) {
        throw new ServeError(
          'Busy',
          `server busy: ${this.#active} requests computing, ${this.#waiting.length} waiting`,
          {
            hint: 'retry after the number of seconds in Retry-After, or send fewer requests at once',
            retryAfter: 1,
          },
        );
      }
      await new Promise<void>((resolve, reject) => {
        const go = () => {
          signal?.removeEventListener('abort', onAbort);
          resolve();
        };
        const onAbort = () => {
          const i = this.#waiting.indexOf(go);
          if (i >= 0) this.#waiting.splice(i, 1);
          this.#onChange(this.#active, this.#waiting.length);
          reject(signal?.reason ?? new Error('aborted'));
        };
        this.#waiting.push(go);
        signal?.addEventListener('abort', onAbort, { once: true });
        this.#onChange(this.#active, this.#waiting.length);
      });
    } else {
      this.#active++;
    }
    this.#onChange(this.#active, this.#waiting.length);
    try {
      return await fn();
    } finally {
      const next = this.#waiting.shift();
      if (next) next();
      else this.#active--;
      this.#onChange(this.#active, this.#waiting.length);
    }
  }
}
