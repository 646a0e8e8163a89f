// A binary min-heap of (primary, secondary) number pairs, used by BPE encoding (rank, position)
// and BPE training (−count, pair).

export class PairHeap {
  private readonly p: number[] = [];
  private readonly s: number[] = [];

  get size(): number {
    return this.p.length;
  }

  private less(i: number, j: number): boolean {
    return this.p[i] < this.p[j] || (this.p[i] === this.p[j] && this.s[i] < this.s[j]);
  }

  private swap(i: number, j: number): void {
    const tp = this.p[i];
    this.p[i] = this.p[j];
    this.p[j] = tp;
    const ts = this.s[i];
    this.s[i] = this.s[j];
    this.s[j] = ts;
  }

  push(primary: number, secondary: number): void {
    this.p.push(primary);
    this.s.push(secondary);
    let i = this.p.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!this.less(i, parent)) break;
      this.swap(i, parent);
      i = parent;
    }
  }

  /** The smallest pair's primary and secondary; call only when size > 0. */
  peek(): [number, number] {
    return [this.p[0], this.s[0]];
  }

  /** Removes the smallest pair (read it with peek first). */
  pop(): void {
    const last = this.p.length - 1;
    this.swap(0, last);
    this.p.pop();
    this.s.pop();
    let i = 0;
    const n = this.p.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let m = i;
      if (l < n && this.less(l, m)) m = l;
      if (r < n && this.less(r, m)) m = r;
      if (m === i) break;
      this.swap(i, m);
      i = m;
    }
  }
}
