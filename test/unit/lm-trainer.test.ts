// ingot.train: the LM trainer's schedule (nanoGPT's get_lr values), batches, gradient accumulation
// (k micro-batches = one big batch), checkpoint atomicity and resume (N iters straight = N/2 + N/2).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readdirSync, renameSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as ig from "../../src/index.js";
import { CHAR_GPT_SIZES, parseCharGptArgs } from "../../src/cli/train-lm.js";

const { GPT } = ig.models;
const { cosineLr, charDataset, getBatch, LMTrainer, trainLM, saveCheckpoint, loadCheckpoint, findCheckpoint } = ig.train;

const tmp = mkdtempSync(join(tmpdir(), "ingot-lm-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

const TEXT = "First Citizen:\nBefore we proceed any further, hear me speak.\n\nAll:\nSpeak, speak.\n".repeat(6);
const data = charDataset(TEXT);

function tinyModel(seed = 0, dropout = 0) {
  ig.manualSeed(seed);
  return new GPT({ vocabSize: data.tokenizer.vocabSize, blockSize: 8, nLayer: 2, nHead: 2, nEmbd: 16, dropout });
}

const values = (m: InstanceType<typeof GPT>) => m.namedParameters().map(([n, p]) => [n, Array.from(p.dataSync())] as const);

test("cosineLr gives nanoGPT's get_lr at known iterations", () => {
  const o = { lr: 1e-3, minLr: 1e-4, warmupIters: 100, lrDecayIters: 2000 };
  const want: [number, number][] = [
    [0, 1e-3 / 101], // (it + 1) / (warmup + 1)
    [49, (1e-3 * 50) / 101],
    [99, (1e-3 * 100) / 101],
    [100, 1e-3], // the decay starts at the peak
    [575, 1e-4 + 0.5 * (1 + Math.cos(Math.PI / 4)) * 9e-4], // a quarter of the way: 8.682e-4
    [1050, 5.5e-4], // half way: the mean of lr and minLr
    [2000, 1e-4],
    [2500, 1e-4],
  ];
  for (const [it, lr] of want) assert.ok(Math.abs(cosineLr(it, o) - lr) < 1e-15, `iter ${it}: ${cosineLr(it, o)} ≠ ${lr}`);
  // The schedule decreases monotonically after the warm-up.
  for (let it = 100; it < 2000; it += 50) assert.ok(cosineLr(it + 50, o) < cosineLr(it, o));
});

test("charDataset splits 90 / 10 and getBatch returns next-token targets at offsets inside the data", () => {
  assert.equal(data.train.length, Math.floor(TEXT.length * 0.9));
  assert.equal(data.train.length + data.val.length, TEXT.length);
  assert.equal(data.tokenizer.decode([...data.train, ...data.val]), TEXT);
  const gen = new ig.Generator(3);
  const { x, y } = getBatch(data.train, 8, 5, gen);
  assert.deepEqual(x.shape, [5, 8]);
  assert.equal(x.dtype, "int32");
  const xs = x.dataSync(), ys = y.dataSync();
  const hay = Array.from(data.train).join(",") + ",";
  for (let b = 0; b < 5; b++) {
    const row = Array.from(xs.subarray(b * 8, b * 8 + 8)), next = Array.from(ys.subarray(b * 8, b * 8 + 8));
    assert.deepEqual(next.slice(0, 7), row.slice(1), "y is x shifted by one");
    assert.ok(hay.includes([...row, next[7]].join(",") + ","), "the block comes from the data");
  }
  assert.throws(() => getBatch(new Int32Array(8), 8, 1, gen), /fewer than blockSize \+ 1 = 9/);
});

test("gradient accumulation: 2 micro-batches of 2 give the gradient of one batch of 4", () => {
  const grads = (batchSize: number, k: number, it = 0) => {
    const model = tinyModel(1);
    const t = new LMTrainer({ model, trainData: data.train, valData: data.val, batchSize, gradAccumulationSteps: k, seed: 5 });
    const loss = t.accumulateGradients(it);
    return { loss, g: model.namedParameters().map(([n, p]) => [n, Array.from(p.grad!.dataSync())] as const) };
  };
  const big = grads(4, 1), acc = grads(2, 2);
  assert.ok(Math.abs(big.loss - acc.loss) < 1e-5, `loss ${acc.loss} vs ${big.loss}`);
  big.g.forEach(([name, g], i) => {
    const a = acc.g[i][1];
    const scale = Math.max(...g.map(Math.abs));
    g.forEach((v, j) => assert.ok(Math.abs(v - a[j]) <= 1e-5 * scale + 1e-7, `${name}[${j}]: accumulated ${a[j]}, one batch ${v}`));
  });
  // Another iteration draws other batches, so the comparison above is not vacuous.
  const other = grads(4, 1, 1);
  assert.ok(other.g[0][1].some((v, j) => Math.abs(v - big.g[0][1][j]) > 1e-4), "iteration 1's gradient differs from iteration 0's");
});

test("estimateLoss evaluates without gradients or changes and restores training mode", () => {
  const model = tinyModel(2, 0.1);
  const before = values(model);
  const t = new LMTrainer({ model, trainData: data.train, valData: data.val, batchSize: 3, evalIters: 2 });
  model.train();
  const r1 = t.estimateLoss(0), r2 = t.estimateLoss(0);
  assert.equal(model.training, true);
  assert.deepEqual(values(model), before);
  assert.equal(r1.val_loss, r2.val_loss, "eval mode: no dropout, same batches");
  assert.ok(Math.abs(r1.train_loss - Math.log(data.tokenizer.vocabSize)) < 0.5, `an untrained model is near ln V, got ${r1.train_loss}`);
  assert.ok(model.parameters().every((p) => p.grad === null));
});

const runOpts = (outDir: string | null, extra: Partial<ig.train.TrainLMOptions> = {}): ig.train.TrainLMOptions => ({
  model: tinyModel(7, 0.1), // dropout on: a resume must repeat the dropout masks too
  trainData: data.train,
  valData: data.val,
  batchSize: 3,
  maxIters: 6,
  warmupIters: 2,
  lr: 1e-2,
  evalInterval: 2,
  evalIters: 2,
  gradAccumulationSteps: 2,
  seed: 11,
  outDir,
  tokenizer: data.tokenizer,
  ...extra,
});

test("trainLM lowers the loss; resume after a crash at iteration 3 gives exactly the uninterrupted run's parameters", () => {
  const straightDir = join(tmp, "straight");
  const o = runOpts(straightDir);
  const straight = trainLM(o);
  assert.equal(straight.iters, 6);
  assert.deepEqual(straight.history.map((h) => h.iter), [0, 2, 4, 6]);
  assert.ok(straight.trainLoss < straight.history[0].train_loss - 0.1, `train loss ${straight.history[0].train_loss} → ${straight.trainLoss}`);

  const crashDir = join(tmp, "crash");
  const events: string[] = [];
  assert.throws(
    () =>
      trainLM(
        runOpts(crashDir, {
          log: (e) => {
            events.push(`${e.kind}@${e.iter}`);
            if (e.kind === "iter" && e.iter === 3) throw new Error("simulated crash");
          },
        }),
      ),
    /simulated crash/,
  );
  assert.deepEqual(events.slice(0, 6), ["eval@0", "checkpoint@0", "iter@0", "iter@1", "eval@2", "checkpoint@2"]);
  assert.equal(loadCheckpoint(crashDir).state.iter, 2, "the last checkpoint is before iteration 2's step");

  // A differently initialised model: resume must load the checkpoint's weights.
  const resumed = trainLM({ ...runOpts(crashDir, { resume: true }), model: tinyModel(99, 0.1) });
  assert.equal(resumed.iters, 6);
  const a = loadCheckpoint(straightDir), b = loadCheckpoint(crashDir);
  assert.deepEqual(values(b.model), values(a.model), "parameters after 6 straight = 2 + resume 4");
  const moments = (sd: ig.optim.OptimizerStateDict) =>
    Object.entries(sd.state).map(([i, s]) => [i, Object.entries(s).map(([k, v]) => [k, typeof v === "number" ? v : Array.from(v.dataSync())])]);
  assert.deepEqual(moments(b.optimizer), moments(a.optimizer), "the same AdamW moments and step counts");
  assert.deepEqual(resumed.history, straight.history, "the same loss estimates");
  assert.equal(resumed.valLoss, straight.valLoss);
  // The folder is a GPT model folder with the tokenizer.
  assert.equal(a.tokenizer!.decode(a.tokenizer!.encode("Speak")), "Speak");
});

test("resume refuses a checkpoint made with other batches, and a folder without one", () => {
  const dir = join(tmp, "straight");
  assert.throws(() => trainLM(runOpts(dir, { resume: true, batchSize: 4 })), /trained with batchSize = 3, this run has 4/);
  assert.throws(() => trainLM(runOpts(join(tmp, "nothing"), { resume: true })), /holds no training checkpoint/);
});

test("a checkpoint write that fails midway leaves the previous checkpoint whole and loadable", () => {
  const dir = join(tmp, "atomic");
  const model = tinyModel(3);
  const t = new LMTrainer({ model, trainData: data.train, valData: data.val, batchSize: 2 });
  t.step(0);
  const state = { iter: 1, history: [], tokens: 16, seconds: 1, options: {} };
  saveCheckpoint(dir, { model, optimizer: t.optimizer, state, tokenizer: data.tokenizer });
  const saved = values(loadCheckpoint(dir).model);

  t.step(1);
  const broken = Object.create(t.optimizer) as typeof t.optimizer;
  broken.stateDict = () => {
    throw new Error("disk full");
  };
  assert.throws(() => saveCheckpoint(dir, { model, optimizer: broken, state: { ...state, iter: 2 } }), /disk full/);
  const after = loadCheckpoint(dir);
  assert.equal(after.state.iter, 1);
  assert.deepEqual(values(after.model), saved);
  assert.notDeepEqual(values(model), saved, "the model did change, so the old weights are the old checkpoint's");
  assert.deepEqual(readdirSync(tmp).filter((f) => f.startsWith("atomic")), ["atomic"], "no temporary folder left behind");

  // A crash between the two renames leaves only <dir>.prev: it is found, and the next save replaces it.
  renameSync(dir, `${dir}.prev`);
  assert.equal(findCheckpoint(dir), `${dir}.prev`);
  assert.equal(loadCheckpoint(dir).state.iter, 1);
  saveCheckpoint(dir, { model, optimizer: t.optimizer, state: { ...state, iter: 2 } });
  assert.equal(loadCheckpoint(dir).state.iter, 2);
  assert.ok(!existsSync(`${dir}.prev`));
});

test("ingot train char-gpt: the sizes are nanoGPT's configurations and the options parse", () => {
  const { small, baby } = CHAR_GPT_SIZES;
  assert.deepEqual(small.model, { nLayer: 4, nHead: 4, nEmbd: 128, blockSize: 64, dropout: 0 });
  assert.deepEqual([small.batchSize, small.lr, small.minLr, small.warmupIters, small.maxIters, small.evalIters], [12, 1e-3, 1e-4, 100, 2000, 20]);
  assert.deepEqual(baby.model, { nLayer: 6, nHead: 6, nEmbd: 384, blockSize: 256, dropout: 0.2 });
  assert.deepEqual([baby.batchSize, baby.maxIters], [64, 5000]);
  const file = new URL(import.meta.url).pathname;
  const a = parseCharGptArgs(["--data", file, "--max-iters", "50", "--grad-accum", "2", "--lr", "5e-4"]);
  assert.ok(a !== "help");
  assert.deepEqual([a.size, a.maxIters, a.gradAccum, a.lr, a.batchSize, a.seed, a.out], ["small", 50, 2, 5e-4, 12, 1337, "runs/char-gpt-small"]);
  assert.throws(() => parseCharGptArgs(["--data", file, "--size", "medium"]), /unknown --size 'medium'; the sizes are tiny, small, baby/);
  assert.throws(() => parseCharGptArgs(["--data", file, "--max-iters", "1.5"]), /--max-iters must be an integer ≥ 1, got '1.5'/);
  assert.throws(() => parseCharGptArgs(["--data", file, "--bogus"]), /unknown option '--bogus'/);
});
