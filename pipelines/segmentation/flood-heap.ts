/**
 * The binary min-heap of scikit-image's watershed (heap_general.pxi), on typed arrays: items
 * ordered by (value, age), pushed with sift-up and popped by moving the last item to the root and
 * sifting it down. Keeping the same algorithm keeps the same order among equal items, which
 * decides who floods a voxel first on plateaus. As in skimage, the heap moves slot numbers, not
 * items; every push takes a fresh slot (a watershed pushes each voxel at most once).
 * Plain functions over a plain record: this is the innermost loop of the watershed.
 */
export interface FloodHeap {
  /** Per slot: value at 2·slot, age at 2·slot + 1 (together: one cache line per comparison). */
  readonly key: Float64Array;
  readonly index: Int32Array;
  readonly heap: Int32Array;
  size: number;
  slots: number;
  /** Value of the item the last `popFlood` returned. */
  popped: number;
}

/** `capacity`: the total number of pushes. */
export function floodHeap(capacity: number): FloodHeap {
  return {
    key: new Float64Array(2 * capacity),
    index: new Int32Array(capacity),
    heap: new Int32Array(capacity),
    size: 0,
    slots: 0,
    popped: Number.NaN,
  };
}

function smaller(h: FloodHeap, a: number, b: number): boolean {
  const key = h.key;
  const va = key[2 * a] as number;
  const vb = key[2 * b] as number;
  return va < vb || (va === vb && (key[2 * a + 1] as number) < (key[2 * b + 1] as number));
}

export function pushFlood(h: FloodHeap, value: number, age: number, index: number): void {
  const heap = h.heap;
  const slot = h.slots++;
  h.key[2 * slot] = value;
  h.key[2 * slot + 1] = age;
  h.index[slot] = index;
  let child = h.size++;
  heap[child] = slot;
  while (child > 0) {
    const parent = ((child + 1) >> 1) - 1;
    const p = heap[parent] as number;
    if (!smaller(h, slot, p)) break;
    heap[child] = p;
    heap[parent] = slot;
    child = parent;
  }
}

/** Removes the smallest item and returns its voxel index (its value: `h.popped`). */
export function popFlood(h: FloodHeap): number {
  const heap = h.heap;
  const top = heap[0] as number;
  h.popped = h.key[2 * top] as number;
  const size = --h.size;
  if (size === 0) return h.index[top] as number;
  heap[0] = heap[size] as number;
  heap[size] = top;
  let i = 0;
  for (;;) {
    const l = 2 * i + 1;
    if (l >= size) break;
    let smallest = i;
    if (smaller(h, heap[l] as number, heap[i] as number)) smallest = l;
    const r = l + 1;
    if (r < size && smaller(h, heap[r] as number, heap[smallest] as number)) smallest = r;
    if (smallest === i) break;
    const t = heap[i] as number;
    heap[i] = heap[smallest] as number;
    heap[smallest] = t;
    i = smallest;
  }
  return h.index[top] as number;
}
