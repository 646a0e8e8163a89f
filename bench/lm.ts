// Benchmark `lm`: GPT training tokens/s (nanoGPT's `small` and `baby` shapes, AdamW, clipping) and
// KV-cached greedy generation tokens/s (`baby`, batch 1), Ingot vs PyTorch (bench/peers/torch_lm.py)
// starting from the same weights; the first losses (and the prefill logits) must agree before timing.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../src/index.js";
import type { Tensor } from "../src/index.js";
import { check, ingotVersions, measureIngot, PEERS, printTable, ratio, runPeer, torchEnv, torchPython, writeResult, type PeerResult, openblasCoretype } from "./common.js";

const VALIDATE_STEPS = 3;

interface Size {
  name: "small" | "baby";
  nLayer: number;
  nHead: number;
  nEmbd: number;
  blockSize: number;
  batch: number;
}

/** nanoGPT's CPU config (`small`) and its shakespeare-char config (`baby`), vocabulary 65, no dropout, no biases (nanoGPT's default). */
const SIZES: Size[] = [
  { name: "small", nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, batch: 12 },
  { name: "baby", nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256, batch: 64 },
];
const VOCAB = 65;
const GEN = { prompt: 8, newTokens: 200 };
/** One baby training step takes seconds: fewer, shorter windows so that the whole benchmark stays in minutes. */
const timingFor = (s: Size) => (s.name === "baby" ? { windows: 3, windowS: 0, warmup: 1 } : { windows: 8, windowS: 0.25, warmup: 3 });

function model(s: Size): ig.models.GPT {
  ig.manualSeed(1234);
  return new ig.models.GPT({ vocabSize: VOCAB, blockSize: s.blockSize, nLayer: s.nLayer, nHead: s.nHead, nEmbd: s.nEmbd, dropout: 0, bias: false });
}

/** Writes every parameter (GPT-2 names) and the tensors in `extra` as raw little-endian files plus meta.json. */
function save(dir: string, m: ig.models.GPT, extra: Record<string, Tensor>, config: object): void {
  const meta: Record<string, unknown> = {};
  const put = (name: string, t: Tensor) => {
    writeFileSync(join(dir, `${name}.bin`), t.contiguous().dataSync() as Float32Array | Int32Array);
    meta[name] = { file: `${name}.bin`, shape: [...t.shape], dtype: t.dtype };
  };
  for (const [name, p] of m.namedParameters()) put(name, p);
  for (const [name, t] of Object.entries(extra)) put(name, t);
  writeFileSync(join(dir, "meta.json"), JSON.stringify({ tensors: meta, config }));
}

/** Random token ids (B, T) from a seeded generator (throughput does not depend on the text). */
const tokens = (g: ig.Generator, B: number, T: number) => ig.randint(0, VOCAB, [B, T], { generator: g });

/** nanoGPT's training step: forward with targets, backward, clip the gradient norm at 1, AdamW. */
function trainer(m: ig.models.GPT, x: Tensor, y: Tensor): () => number {
  const opt = m.configureOptimizers({ weightDecay: 0.1, lr: 1e-3, betas: [0.9, 0.99] });
  const params = m.parameters();
  return () => {
    opt.zeroGrad();
    const { loss } = m.forward(x, y);
    loss!.backward();
    ig.optim.clipGradNorm(params, 1.0);
    opt.step();
    return loss!.item();
  };
}

/** The PyTorch peer with 1 and 2 threads (OpenBLAS, OMP_WAIT_POLICY=PASSIVE); the faster is kept. */
function torch(workload: string, spec: object, key: string): PeerResult {
  const py = torchPython();
  if (!py) return { ok: false, error: "no Python with torch (apt-get install python3-torch libopenblas0-pthread, or set INGOT_BENCH_PYTHON)" };
  let best: PeerResult | null = null;
  for (const threads of [1, 2]) {
    const env = torchEnv(threads);
    const r = runPeer(py, [join(PEERS, "torch_lm.py"), workload, JSON.stringify({ ...spec, threads })], env, 1200);
    if (!r.ok) return r;
    if (!best || (r[key] as number) > (best[key] as number)) best = r;
  }
  return best!;
}

interface Row {
  what: string;
  unit: string;
  ingot: PeerResult;
  pytorch: PeerResult;
}

function train(s: Size): Row {
  const dir = mkdtempSync(join(tmpdir(), `ingot-bench-lm-${s.name}-`));
  try {
    const m = model(s);
    const g = new ig.Generator(7);
    const x = tokens(g, s.batch, s.blockSize);
    const y = tokens(g, s.batch, s.blockSize);
    save(dir, m, { x, y }, { ...s, vocabSize: VOCAB });
    const step = trainer(m, x, y);
    const ours = Array.from({ length: VALIDATE_STEPS }, () => step());
    check(ours.every(Number.isFinite), `${s.name}: Ingot losses ${ours}`);
    let peer: PeerResult = { ok: false, error: "not run" };
    const t = measureIngot(step, () => (peer = torch("train", { dir, validateSteps: VALIDATE_STEPS, ...timingFor(s) }, "tokensPerSec")), timingFor(s));
    if (peer.ok) {
      const l = peer.losses as number[];
      ours.forEach((v, i) => check(Math.abs(v - l[i]) <= 2e-3 * (1 + Math.abs(v)), `${s.name}: loss after step ${i} is ${v} in Ingot but ${l[i]} in PyTorch`));
    } else console.error(`  lm ${s.name}: PyTorch unavailable: ${peer.error}`);
    const tok = s.batch * s.blockSize;
    return {
      what: `train ${s.name} (B=${s.batch}, T=${s.blockSize})`,
      unit: "tokens/s",
      ingot: { ok: true, tokensPerSec: tok / t.best, medianTokensPerSec: tok / t.median, threads: t.threads, losses: ours },
      pytorch: peer,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function generation(s: Size): Row {
  const dir = mkdtempSync(join(tmpdir(), "ingot-bench-lm-gen-"));
  try {
    const m = model(s).eval();
    const prompt = tokens(new ig.Generator(8), 1, GEN.prompt);
    save(dir, m, { prompt }, { ...s, vocabSize: VOCAB });
    const promptIds = Array.from(prompt.dataSync() as Int32Array);
    // The prefill logits of the last prompt position, compared with the peer's before timing.
    const logits = ig.noGrad(() => m.forward(prompt, null, { lastOnly: true }).logits.reshape([VOCAB]).toFlatArray() as number[]);
    let generated: number[] = [];
    const run = () => {
      generated = ig.noGrad(() => m.generate([promptIds], GEN.newTokens, { temperature: 0 }))[0].slice(GEN.prompt);
    };
    let peer: PeerResult = { ok: false, error: "not run" };
    const t = measureIngot(run, () => (peer = torch("generate", { dir, newTokens: GEN.newTokens, windows: 3, windowS: 0, warmup: 1 }, "tokensPerSec")), { windows: 3, windowS: 0, warmup: 1 });
    let agree = 0;
    if (peer.ok) {
      const pl = peer.logits as number[];
      const worst = Math.max(...logits.map((v, i) => Math.abs(v - pl[i])));
      check(worst <= 1e-4, `generation: prefill logits differ from PyTorch's by up to ${worst}`);
      const pt = peer.tokens as number[];
      while (agree < generated.length && generated[agree] === pt[agree]) agree++;
    } else console.error(`  lm generate: PyTorch unavailable: ${peer.error}`);
    const tps = GEN.newTokens / t.best;
    return {
      what: `generate ${s.name} (B=1, ${GEN.prompt}-token prompt, ${GEN.newTokens} new, greedy, KV cache)`,
      unit: "tokens/s",
      ingot: { ok: true, tokensPerSec: tps, medianTokensPerSec: GEN.newTokens / t.median, threads: t.threads, tokensAgreeingWithPyTorch: agree },
      pytorch: peer,
    };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/** INGOT_BENCH_LM=small,baby,generate picks parts (default all: the baby step alone takes seconds). */
export function lm(): void {
  const parts = (process.env.INGOT_BENCH_LM ?? "small,baby,generate").split(",");
  const rows = [...SIZES.filter((s) => parts.includes(s.name)).map(train), ...(parts.includes("generate") ? [generation(SIZES[1])] : [])];
  const fmt = (r: PeerResult) => (r.ok ? Math.round(r.tokensPerSec as number).toLocaleString("en-US") : "—");
  printTable(
    "GPT language models: training and generation tokens/s (higher is better)",
    ["workload", "Ingot", "thr", "PyTorch", "thr", "vs PyTorch"],
    rows.map((r) => [r.what, fmt(r.ingot), `${r.ingot.threads}`, fmt(r.pytorch), r.pytorch.ok ? `${r.pytorch.threads}` : "—", ratio(r.ingot.tokensPerSec as number, r.pytorch.ok ? (r.pytorch.tokensPerSec as number) : null)]),
  );
  const file = writeResult("lm", {
    versions: { ...ingotVersions(), torch: rows[0].pytorch.version ?? null, blas: rows[0].pytorch.blas ?? null, openblasCoretype: openblasCoretype() ?? null },
    unit: "tokens/s",
    workload:
      "nanoGPT GPT (no biases, dropout 0, vocab 65, tanh GELU, tied head): train = forward + cross-entropy + backward + clipGradNorm(1) + AdamW(lr 1e-3, betas 0.9/0.99, wd 0.1 on matrices) on random tokens; generate = greedy decoding with a KV cache",
    results: rows,
  });
  console.log(`results: ${file}`);
}
