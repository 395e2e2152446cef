/**
 * The binary min-heap of scikit-image's watershed (heap_general.pxi), on typed arrays: items
 * ordered by (value, age), pushed with sift-up and popped by moving the last item to the root and
 * sifting it down. Keeping the same algorithm keeps the same order among equal items, which
 * decides who floods a voxel first on plateaus.
 */
export class FloodHeap {
  #value: Float64Array;
  #age: Float64Array;
  #index: Int32Array;
  #size = 0;
  #popped = Number.NaN;

  constructor(capacity = 1024) {
    this.#value = new Float64Array(capacity);
    this.#age = new Float64Array(capacity);
    this.#index = new Int32Array(capacity);
  }

  get size(): number {
    return this.#size;
  }

  push(value: number, age: number, index: number): void {
    if (this.#size === this.#value.length) this.#grow();
    let child = this.#size++;
    this.#set(child, value, age, index);
    while (child > 0) {
      const parent = ((child + 1) >> 1) - 1;
      if (!this.#smaller(child, parent)) break;
      this.#swap(child, parent);
      child = parent;
    }
  }

  /** Value of the item the last `pop` returned. */
  get poppedValue(): number {
    return this.#popped;
  }

  /** Removes the smallest item and returns its index (its value: `poppedValue`). */
  pop(): number {
    const top = this.#index[0] as number;
    this.#popped = this.#value[0] as number;
    this.#size--;
    if (this.#size === 0) return top;
    this.#swap(0, this.#size);
    let i = 0;
    for (;;) {
      let smallest = i;
      const l = 2 * i + 1;
      const r = l + 1;
      if (l < this.#size && this.#smaller(l, smallest)) smallest = l;
      if (r < this.#size && this.#smaller(r, smallest)) smallest = r;
      if (smallest === i) break;
      this.#swap(i, smallest);
      i = smallest;
    }
    return top;
  }

  #smaller(a: number, b: number): boolean {
    const va = this.#value[a] as number;
    const vb = this.#value[b] as number;
    if (va !== vb) return va < vb;
    return (this.#age[a] as number) < (this.#age[b] as number);
  }

  #set(i: number, value: number, age: number, index: number): void {
    this.#value[i] = value;
    this.#age[i] = age;
    this.#index[i] = index;
  }

  #swap(a: number, b: number): void {
    const v = this.#value[a] as number;
    const g = this.#age[a] as number;
    const x = this.#index[a] as number;
    this.#set(a, this.#value[b] as number, this.#age[b] as number, this.#index[b] as number);
    this.#set(b, v, g, x);
  }

  #grow(): void {
    const cap = this.#value.length * 2;
    const value = new Float64Array(cap);
    const age = new Float64Array(cap);
    const index = new Int32Array(cap);
    value.set(this.#value);
    age.set(this.#age);
    index.set(this.#index);
    this.#value = value;
    this.#age = age;
    this.#index = index;
  }
}
