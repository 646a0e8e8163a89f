// int8 vs float32 forward of the quant bench's MLP (784-1024-1024-10), measured as alternating pairs in one
// process (40 pairs per batch size) so that slow periods of a shared machine hit both sides alike;
// prints the median and the 10th/90th percentiles of the pairwise ratios. Run after npm run build:
//   node bench/quant-pairs.mjs
import * as ig from "../dist/src/index.js";
import { quantize } from "../dist/src/compress/quantize.js";
const { nn } = ig;
ig.manualSeed(0);
const mk = () => new nn.Sequential(new nn.Linear(784, 1024), new nn.ReLU(), new nn.Linear(1024, 1024), new nn.ReLU(), new nn.Linear(1024, 10));
const f = mk(); const q = mk(); q.loadStateDict(f.stateDict()); quantize(q, { bits: 8 });
for (const B of [1, 64]) {
  const x = ig.rand([B, 784]);
  const t = { f: [], q: [] };
  for (let r = 0; r < 40; r++) {
    for (const [k, m] of [["f", f], ["q", q]]) {
      const n = B === 1 ? 200 : 20;
      const t0 = performance.now();
      for (let i = 0; i < n; i++) ig.noGrad(() => m.call(x));
      t[k].push((performance.now() - t0) / n);
    }
  }
  const med = (a) => a.sort((x, y) => x - y)[a.length >> 1];
  const ratios = t.f.map((v, i) => v / t.q[i]).sort((a, b) => a - b);
  console.log(`B=${B}: float ${med([...t.f]).toFixed(3)} ms int8 ${med([...t.q]).toFixed(3)} ms; pairwise ratio median ${ratios[20].toFixed(2)} (p10 ${ratios[4].toFixed(2)}, p90 ${ratios[36].toFixed(2)})`);
}
