/**
 * A min-heap of (score, u, v) triples in lexicographic order, as Python's heapq on tuples: the
 * order is total, so the pop sequence does not depend on how the heap is built.
 */
export class ScoreQueue {
  #s: number[] = [];
  #u: number[] = [];
  #v: number[] = [];

  get size(): number {
    return this.#s.length;
  }

  push(score: number, u: number, v: number): void {
    this.#s.push(score);
    this.#u.push(u);
    this.#v.push(v);
    let i = this.#s.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.#less(i, parent)) break;
      this.#swap(i, parent);
      i = parent;
    }
  }

  pop(): [number, number, number] {
    const top: [number, number, number] = [this.#s[0] as number, this.#u[0] as number, this.#v[0] as number];
    const last = this.#s.length - 1;
    this.#swap(0, last);
    this.#s.pop();
    this.#u.pop();
    this.#v.pop();
    let i = 0;
    for (;;) {
      const l = 2 * i + 1;
      let m = i;
      if (l < this.#s.length && this.#less(l, m)) m = l;
      if (l + 1 < this.#s.length && this.#less(l + 1, m)) m = l + 1;
      if (m === i) break;
      this.#swap(i, m);
      i = m;
    }
    return top;
  }

  #less(a: number, b: number): boolean {
    const sa = this.#s[a] as number;
    const sb = this.#s[b] as number;
    if (sa !== sb) return sa < sb;
    const ua = this.#u[a] as number;
    const ub = this.#u[b] as number;
    if (ua !== ub) return ua < ub;
    return (this.#v[a] as number) < (this.#v[b] as number);
  }

  #swap(a: number, b: number): void {
    for (const arr of [this.#s, this.#u, this.#v]) {
      const t = arr[a] as number;
      arr[a] = arr[b] as number;
      arr[b] = t;
    }
  }
}
