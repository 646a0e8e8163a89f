// Benchmarks 2 and 3: training steps per second of the MNIST-shaped MLP (784-128-10, Adam) and of
// the seed's CIFAR CNN (conv 32 → pool → conv 64 → pool → conv 64 → dense 64 → dense 10, 3×3 convs,
// ReLU) on synthetic data, Ingot vs PyTorch and TensorFlow.js. Every framework starts from the same
// weights and data (written to a temporary folder), and the first losses must agree before timing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { check, ingotVersions, packageVersion, pairedTiming, PAIRED_CAPTION, PAIRED_METHOD, printTable, ratio, ratioSummary, runTfjs, startTorchPeers, writeResult, type PeerResult, openblasCoretype } from "./common.js";

const VALIDATE_STEPS = 3;

/** PyTorch's default initialization (uniform ±1/√fan_in) from a seeded generator. */
function uniform(g: ig.Generator, shape: number[], bound: number): Tensor {
  const v = new Float32Array(shape.reduce((a, b) => a * b, 1));
  for (let i = 0; i < v.length; i++) v[i] = (g.random() * 2 - 1) * bound;
  return ig.tensor(v, { shape });
}

interface Workload {
  /** The initial weights, in the order w1, b1, w2, b2, … */
  params: Tensor[];
  x: Tensor;
  y: Tensor;
  forward(x: Tensor, params: Tensor[]): Tensor;
}

function mlpWorkload(batch: number): Workload {
  const g = new ig.Generator(1);
  const params = [uniform(g, [128, 784], 1 / 28), uniform(g, [128], 1 / 28), uniform(g, [10, 128], 1 / Math.sqrt(128)), uniform(g, [10], 1 / Math.sqrt(128))];
  return {
    params,
    x: uniform(g, [batch, 784], 1).abs(), // pixel-like values in [0, 1)
    y: ig.randint(0, 10, [batch], { generator: g }),
    forward: (x, [w1, b1, w2, b2]) => ig.linear(ig.relu(ig.linear(x, w1, b1)), w2, b2),
  };
}

function cnnWorkload(batch: number): Workload {
  const g = new ig.Generator(2);
  const conv = (o: number, i: number) => [uniform(g, [o, i, 3, 3], 1 / Math.sqrt(i * 9)), uniform(g, [o], 1 / Math.sqrt(i * 9))];
  const params = [...conv(32, 3), ...conv(64, 32), ...conv(64, 64), uniform(g, [64, 1024], 1 / 32), uniform(g, [64], 1 / 32), uniform(g, [10, 64], 1 / 8), uniform(g, [10], 1 / 8)];
  return {
    params,
    x: uniform(g, [batch, 3, 32, 32], 1),
    y: ig.randint(0, 10, [batch], { generator: g }),
    forward(x, [w1, b1, w2, b2, w3, b3, w4, b4, w5, b5]) {
      let h = ig.maxPool2d(ig.relu(ig.conv2d(x, w1, b1)), 2); // (B, 32, 15, 15)
      h = ig.maxPool2d(ig.relu(ig.conv2d(h, w2, b2)), 2); // (B, 64, 6, 6)
      h = ig.relu(ig.conv2d(h, w3, b3)).flatten(1); // (B, 1024)
      return ig.linear(ig.relu(ig.linear(h, w4, b4)), w5, b5); // (B, 10)
    },
  };
}

/** Writes the weights (named w1, b1, …) and data as raw little-endian files plus meta.json. */
function save(dir: string, w: Workload): void {
  const meta: Record<string, unknown> = {};
  const put = (name: string, t: Tensor) => {
    writeFileSync(join(dir, `${name}.bin`), t.contiguous().dataSync() as Float32Array | Int32Array);
    meta[name] = { file: `${name}.bin`, shape: [...t.shape], dtype: t.dtype };
  };
  w.params.forEach((p, i) => put(`${i % 2 ? "b" : "w"}${Math.floor(i / 2) + 1}`, p));
  put("x", w.x);
  put("y", w.y);
  writeFileSync(join(dir, "meta.json"), JSON.stringify(meta));
}

/** One training step: forward, cross-entropy, backward, then the fused in-place Adam update. */
function trainer(w: Workload): () => number {
  const params = w.params.map((p) => p.clone().requiresGrad_());
  const state = params.map((p) => [ig.zerosLike(p), ig.zerosLike(p)]);
  let step = 0;
  return () => {
    for (const p of params) p.grad = null;
    const loss = ig.crossEntropy(w.forward(w.x, params), w.y);
    loss.backward();
    step++;
    ig.noGrad(() =>
      params.forEach((p, i) =>
        ig.optim.adamUpdate_(p, p.grad!, state[i][0], state[i][1], { lr: 1e-3, beta1: 0.9, beta2: 0.999, eps: 1e-8, weightDecay: 0, step, decoupled: false }),
      ),
    );
    return loss.item();
  };
}

interface Row {
  batch: number;
  ingot: number;
  peers: Record<string, PeerResult>;
  paired: Record<string, unknown> | null;
}

function lossesAgree(name: string, ours: number[], theirs: PeerResult): void {
  if (!theirs.ok) return;
  const l = theirs.losses as number[];
  ours.slice(0, l.length).forEach((v, i) => check(Math.abs(v - l[i]) <= 2e-3 * (1 + Math.abs(v)), `${name}: loss after step ${i} is ${v} in Ingot but ${l[i]} in the peer`));
}

/** tfjs runs a backend when it is listed in `tfjs` (with timing overrides for very slow ones), else records `skipped`. */
type TfjsPlan = Partial<Record<"wasm" | "cpu", { skipped?: string; spec?: object }>>;

async function runTraining(name: "mlp" | "cnn", batches: number[], make: (b: number) => Workload, tfjs: TfjsPlan, windowS: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const batch of batches) {
    const dir = mkdtempSync(join(tmpdir(), `ingot-bench-${name}-`));
    try {
      const w = make(batch);
      save(dir, w);
      const step = trainer(w);
      const ours = Array.from({ length: VALIDATE_STEPS }, () => step());
      check(ours.every(Number.isFinite), `${name}: Ingot losses ${ours}`);
      const spec = { dir, batch, validateSteps: VALIDATE_STEPS };
      const peers: Record<string, PeerResult> = {};
      const torch = await startTorchPeers(name, spec);
      let t;
      try {
        t = await pairedTiming(step, torch.peers, windowS);
      } finally {
        for (const p of torch.peers) p.close();
      }
      const rate = (s: number) => batch / s;
      peers.pytorch = t.pytorch
        ? { ...torch.info, samplesPerSec: rate(t.pytorch.best), medianSamplesPerSec: rate(t.pytorch.median), threads: t.pytorch.threads, windowSamplesPerSec: t.pytorch.windows.map(rate) }
        : torch.info;
      for (const b of ["wasm", "cpu"] as const) {
        const plan = tfjs[b];
        peers[`tfjs-${b}`] = plan && !plan.skipped ? runTfjs(b, name, { ...spec, ...plan.spec }) : { ok: false, error: plan?.skipped ?? "skipped" };
      }
      for (const [peer, r] of Object.entries(peers)) {
        if (r.ok) lossesAgree(`${name} batch ${batch} vs ${peer}`, ours, r);
        else console.error(`  ${name} batch ${batch}: ${peer} unavailable: ${r.error}`);
      }
      const ingot = { ok: true, samplesPerSec: rate(t.ingot.best), medianSamplesPerSec: rate(t.ingot.median), threads: t.ingot.threads, losses: ours, windowSamplesPerSec: t.ingot.windows.map(rate) };
      rows.push({ batch, ingot: ingot.samplesPerSec, peers: { ...peers, ingot }, paired: ratioSummary(t.ratios) });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return rows;
}

function report(name: string, title: string, rows: Row[], extra: Record<string, unknown>): void {
  const fmt = (r: PeerResult | undefined) => (r?.ok ? Math.round(r.samplesPerSec as number).toLocaleString("en-US") : "—");
  const num = (r: PeerResult | undefined) => (r?.ok ? (r.samplesPerSec as number) : undefined);
  printTable(
    title,
    ["batch", "Ingot", "thr", "PyTorch", "thr", "vs PyTorch", "paired", "tfjs-wasm", "vs wasm", "tfjs-cpu", "vs tfjs-cpu"],
    rows.map((r) => [
      r.batch,
      fmt(r.peers.ingot),
      `${r.peers.ingot.threads}`,
      fmt(r.peers.pytorch),
      r.peers.pytorch.ok ? `${r.peers.pytorch.threads}` : "—",
      ratio(r.ingot, num(r.peers.pytorch)),
      r.paired ? `${(r.paired.median as number).toFixed(2)}x` : "—",
      fmt(r.peers["tfjs-wasm"]),
      ratio(r.ingot, num(r.peers["tfjs-wasm"])),
      fmt(r.peers["tfjs-cpu"]),
      ratio(r.ingot, num(r.peers["tfjs-cpu"])),
    ]),
  );
  const file = writeResult(name, {
    versions: { ...ingotVersions(), torch: rows[0]?.peers.pytorch.version ?? null, blas: rows[0]?.peers.pytorch.blas ?? null, openblasCoretype: openblasCoretype() ?? null, tfjs: packageVersion("@tensorflow/tfjs") },
    unit: "samples/s",
    method: PAIRED_METHOD,
    ...extra,
    results: rows.map((r) => ({ batch: r.batch, ...r.peers, paired: r.paired })),
  });
  console.log(`results: ${file}`);
}

export async function mlp(): Promise<void> {
  const rows = await runTraining("mlp", [32, 128], mlpWorkload, { wasm: {}, cpu: {} }, 0.25);
  report("mlp", `MLP 784-128-10 training (Adam, synthetic MNIST-shaped data), samples/s (higher is better; ${PAIRED_CAPTION})`, rows, {
    workload: "linear(784,128) → relu → linear(128,10) → crossEntropy → backward → adamUpdate_ (lr 1e-3)",
  });
}

export async function cnn(slow: boolean): Promise<void> {
  // tfjs-wasm is run to show why it has no number (it lacks Conv2DBackpropFilter); tfjs-cpu takes
  // about a minute per step, so it is timed on two steps and only with --slow.
  const rows = await runTraining("cnn", [32], cnnWorkload, {
    wasm: { spec: { validateSteps: 1 } },
    cpu: slow ? { spec: { validateSteps: 1, warmup: 0, windows: 1, windowS: 0 } } : { skipped: "about 0.5 sample/s (a minute per step); run with --slow" },
  }, 0.5);
  report("cnn", `CIFAR CNN training (32×32×3, batch 32, Adam, synthetic data), samples/s (higher is better; ${PAIRED_CAPTION})`, rows, {
    workload: "conv(3→32) relu pool conv(32→64) relu pool conv(64→64) relu flatten linear(1024,64) relu linear(64,10) crossEntropy, 3×3 valid convs",
  });
}
