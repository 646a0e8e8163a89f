// ingot.privacy RDP accountant: the published DP-SGD MNIST numbers (TensorFlow Privacy's tutorial
// table), Opacus's own doc example, closed forms (q = 1 is the plain Gaussian mechanism), the
// integer- and fractional-order series agreeing, erfc in log space, and the σ search.
import { test } from "node:test";
import assert from "node:assert/strict";
import { computeEpsilon, computeMuPoisson, computeRdp, DEFAULT_ALPHAS, GDPAccountant, gdpDelta, gdpEpsilon, getNoiseMultiplier, getPrivacySpent, logErfc, RDPAccountant, rdpOneStep } from "../../src/privacy/index.js";

const within = (got: number, want: number, rel: number, what: string) =>
  assert.ok(Math.abs(got - want) <= rel * Math.abs(want), `${what}: got ${got}, expected ${want} within ${rel * 100}%`);

test("TF Privacy's MNIST table (batch 256 of 60000, δ = 1e-5): ε within 2 % (classic conversion, as the table was made)", () => {
  // tensorflow/privacy tutorials/README.md "Select Parameters"; steps = epochs · 60000 // 256 as the tutorial computes them.
  const q = 256 / 60000;
  for (const [sigma, epochs, published] of [
    [1.12, 60, 2.92],
    [0.6, 30, 9.74],
    [1.2, 10, 1.2],
  ]) {
    const steps = Math.floor((epochs * 60000) / 256);
    within(computeEpsilon({ noiseMultiplier: sigma, sampleRate: q, delta: 1e-5, steps, conversion: "classic" }), published, 0.02, `σ=${sigma}, ${epochs} epochs`);
  }
  // The default (Opacus's improved conversion) is tighter: strictly below the classic bound.
  const steps = Math.floor((60 * 60000) / 256);
  const improved = computeEpsilon({ noiseMultiplier: 1.12, sampleRate: q, delta: 1e-5, steps });
  const classic = computeEpsilon({ noiseMultiplier: 1.12, sampleRate: q, delta: 1e-5, steps, conversion: "classic" });
  assert.ok(improved < classic && improved > 0.8 * classic, `improved ${improved} vs classic ${classic}`);
});

test("Opacus's rdp.py example: two mechanisms composed, orders 2..32 → ε 0.336 at order 23 (improved conversion)", () => {
  const orders = Array.from({ length: 31 }, (_, i) => i + 2);
  const rdp = orders.map(() => 0);
  for (const [q, sigma, steps] of [
    [1e-5, 1.0, 10],
    [1e-4, 3.0, 4],
  ])
    computeRdp({ sampleRate: q, noiseMultiplier: sigma, steps, orders }).forEach((v, i) => (rdp[i] += v));
  const { epsilon, bestAlpha } = getPrivacySpent({ orders, rdp, delta: 1e-5 });
  assert.equal(bestAlpha, 23);
  within(epsilon, 0.336, 0.005, "ε");
});

test("q = 1 is the Gaussian mechanism: RDP α/(2σ²) exactly; q = 0 costs nothing; σ = 0 is no privacy", () => {
  for (const a of [1.5, 2, 7.3, 32]) assert.equal(rdpOneStep(1, 2, a), a / 8);
  assert.equal(rdpOneStep(0, 1, 4), 0);
  assert.equal(rdpOneStep(0.1, 0, 4), Infinity);
});

test("integer and fractional orders agree where they meet (the two series of Mironov et al. 2019)", () => {
  for (const [q, sigma] of [
    [0.01, 1.1],
    [0.2, 0.8],
    [256 / 60000, 1.12],
  ])
    for (const a of [2, 3, 8, 20]) {
      const int = rdpOneStep(q, sigma, a);
      const frac = rdpOneStep(q, sigma, a + 1e-7);
      within(frac, int, 1e-4, `q=${q} σ=${sigma} α=${a}`);
      // and RDP grows with the order
      assert.ok(rdpOneStep(q, sigma, a + 0.5) > int);
    }
});

test("logErfc matches erfc where it is representable and stays finite far out", () => {
  // erfc values from Abramowitz & Stegun table 7.1 / high-precision references.
  for (const [x, erfc] of [
    [0.5, 0.4795001221869535],
    [1, 0.15729920705028513],
    [2, 0.004677734981047266],
    [-1, 1.8427007929497148],
    [5, 1.5374597944280349e-12],
  ])
    within(logErfc(x), Math.log(erfc), 1e-12, `log erfc(${x})`);
  // Asymptotics: log erfc(x) ≈ −x² − log(x√π) for large x.
  const x = 40;
  within(logErfc(x), -x * x - Math.log(x * Math.sqrt(Math.PI)) - 1 / (2 * x * x), 1e-9, "log erfc(40)");
});

test("RDPAccountant composes steps: same ε as computing the whole run at once; history merges equal steps", () => {
  const acc = new RDPAccountant();
  for (let i = 0; i < 100; i++) acc.step({ noiseMultiplier: 1.0, sampleRate: 0.01 });
  for (let i = 0; i < 50; i++) acc.step({ noiseMultiplier: 2.0, sampleRate: 0.02 });
  assert.equal(acc.history.length, 2);
  assert.equal(acc.steps, 150);
  const rdp = DEFAULT_ALPHAS.map(() => 0);
  computeRdp({ sampleRate: 0.01, noiseMultiplier: 1, steps: 100 }).forEach((v, i) => (rdp[i] += v));
  computeRdp({ sampleRate: 0.02, noiseMultiplier: 2, steps: 50 }).forEach((v, i) => (rdp[i] += v));
  assert.equal(acc.getEpsilon(1e-5), getPrivacySpent({ orders: DEFAULT_ALPHAS, rdp, delta: 1e-5 }).epsilon);
  assert.equal(new RDPAccountant().getEpsilon(1e-5), 0);
  assert.throws(() => acc.getEpsilon(0), /delta must be in \(0, 1\)/);
});

test("getNoiseMultiplier: the σ found spends just under the target ε; impossible budgets are refused", () => {
  const q = 256 / 60000;
  for (const target of [1, 3, 8]) {
    const sigma = getNoiseMultiplier({ targetEpsilon: target, targetDelta: 1e-5, sampleRate: q, epochs: 10 });
    const eps = computeEpsilon({ noiseMultiplier: sigma, sampleRate: q, delta: 1e-5, epochs: 10 });
    assert.ok(eps <= target && eps >= target - 0.01, `target ${target}: σ ${sigma} gives ε ${eps}`);
  }
  assert.throws(() => getNoiseMultiplier({ targetEpsilon: 1e-9, targetDelta: 1e-5, sampleRate: 1, steps: 1e6 }), /privacy budget is too low/);
  assert.throws(() => getNoiseMultiplier({ targetEpsilon: 1, targetDelta: 1e-5, sampleRate: q }), /either steps or epochs/);
  assert.throws(() => computeRdp({ sampleRate: 1.5, noiseMultiplier: 1, steps: 1 }), /sampleRate must be in \[0, 1\]/);
});

test("GDP accountant: Opacus's compute_gdp_privacy example (60000, batch 256, σ 1.3, 15 epochs) is 0.227-GDP; ε(δ) inverts δ(ε); GDP ε is below RDP's", () => {
  const q = 256 / 60000;
  const steps = (15 * 60000) / 256; // the script's T = epoch·N/batch_size (not rounded)
  const mu = computeMuPoisson({ steps, noiseMultiplier: 1.3, sampleRate: q });
  within(mu, 0.227, 0.005, "μ");
  const eps = gdpEpsilon(mu, 1e-5);
  within(gdpDelta(eps, mu), 1e-5, 1e-6, "δ(ε(δ))");
  assert.ok(gdpDelta(eps * 0.9, mu) > 1e-5, "δ(ε) decreases");
  const acc = new GDPAccountant();
  for (let i = 0; i < 3515; i++) acc.step({ noiseMultiplier: 1.3, sampleRate: q });
  const rdpEps = computeEpsilon({ noiseMultiplier: 1.3, sampleRate: q, delta: 1e-5, steps: 3515 });
  assert.ok(acc.getEpsilon(1e-5) < rdpEps && acc.getEpsilon(1e-5) > 0.5 * rdpEps, `GDP ${acc.getEpsilon(1e-5)} vs RDP ${rdpEps}`);
  assert.throws(() => acc.step({ noiseMultiplier: 1.0, sampleRate: q }), /must stay the same/);
});
