// The conformance suite: every op × case × dtype on one backend. Forward results are compared with
// ref in float64, gradients with central finite differences in float64 and with ref's analytic
// gradients, and error cases must throw the same typed error with the same message.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";
import type { DType, OpCase, InputSpec, Tensor } from "../../src/index.js";

const TOL: Record<string, { atol: number; rtol: number }> = {
  float32: { atol: 1e-5, rtol: 1e-4 },
  float64: { atol: 1e-10, rtol: 1e-9 },
};
const GRAD_TOL: Record<string, { atol: number; rtol: number }> = {
  float32: { atol: 1e-4, rtol: 1e-3 },
  float64: { atol: 1e-9, rtol: 1e-8 },
};

function hash(s: string): number {
  let h = 2166136261;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** The raw values of a case's inputs, drawn once per case from a generator seeded by its name. */
function drawInputs(key: string, specs: InputSpec[]): number[][] {
  const g = new ig.Generator(hash(key));
  return specs.map((s) => {
    const n = s.shape.reduce((a, b) => a * b, 1);
    if (s.values) {
      if (s.values.length !== n) throw new Error(`case ${key}: values has ${s.values.length} entries for shape [${s.shape}]`);
      return [...s.values];
    }
    const kind = s.dtype ?? "float";
    const out: number[] = [];
    for (let i = 0; i < n; i++) {
      if (kind === "float") {
        const [lo, hi] = s.range ?? [-2, 2];
        out.push(lo + (hi - lo) * g.random());
      } else if (kind === "int32") {
        const [lo, hi] = s.range ?? [0, 5];
        out.push(g.int(lo, hi));
      } else out.push(g.random() < 0.5 ? 1 : 0);
    }
    return out;
  });
}

function makeInputs(specs: InputSpec[], values: number[][], floatDType: DType, grad: boolean): Tensor[] {
  return specs.map((s, i) => {
    const kind = s.dtype ?? "float";
    const dtype: DType = kind === "float" ? floatDType : kind;
    const vals = kind === "float" && floatDType === "float32" ? values[i].map(Math.fround) : values[i];
    const t = ig.tensor(Float64Array.from(vals), { dtype, shape: s.shape });
    if (grad && kind === "float" && !s.noGrad) t.requiresGrad_();
    return t;
  });
}

function isFloatInput(s: InputSpec): boolean {
  return (s.dtype ?? "float") === "float";
}

function compare(what: string, got: ArrayLike<number>, want: ArrayLike<number>, tol: { atol: number; rtol: number }): void {
  assert.equal(got.length, want.length, `${what}: ${got.length} values, expected ${want.length}`);
  for (let i = 0; i < got.length; i++) {
    const g = got[i];
    const w = want[i];
    if (Number.isNaN(w) && Number.isNaN(g)) continue;
    if (w === g) continue;
    const err = Math.abs(g - w);
    if (!(err <= tol.atol + tol.rtol * Math.abs(w)))
      assert.fail(`${what}: element ${i} is ${g}, expected ${w} (|diff| ${err.toExponential(2)} > ${tol.atol} + ${tol.rtol}·|want|)`);
  }
}

function gradsOf(inputs: Tensor[], specs: InputSpec[]): (Float64Array | null)[] {
  return inputs.map((t, i) =>
    isFloatInput(specs[i]) && !specs[i].noGrad ? Float64Array.from((t.grad?.dataSync() ?? new Float64Array(t.size)) as ArrayLike<number>) : null,
  );
}

/** A fixed non-uniform weighting so that sum(out·w) depends on every output element differently. */
function weighted(out: Tensor): Tensor {
  const w = new Float64Array(out.size);
  for (let i = 0; i < w.length; i++) w[i] = 0.5 + ((i * 7919) % 13) / 13;
  return out.mul(ig.tensor(w, { dtype: out.dtype, shape: [...out.shape] })).sum();
}

export function runConformance(backend: string): void {
  if (!ig.registeredBackends().includes(backend)) {
    try {
      ig.setBackend(backend);
    } catch (e) {
      test(`conformance on '${backend}'`, { skip: `backend '${backend}' is not available here: ${(e as Error).message}` }, () => {});
      return;
    }
  }
  ig.setBackend(backend);
  // Outputs of kernels registered with `overwrites: true` get uninitialized memory; here it is filled
  // with NaN, so a kernel that leaves some elements unwritten fails its case instead of reading zeros.
  ig.setUninitPoison(true);
  const onRef = <T>(fn: () => T): T => ig.withBackend("ref", fn);

  for (const op of ig.allOps()) {
    for (const c of op.cases ?? []) {
      const key = `${op.name}/${c.name}`;
      const values = drawInputs(key, c.inputs);
      const hasFloat = c.inputs.some(isFloatInput);
      const dtypes: DType[] = hasFloat ? (c.dtypes ?? ["float32", "float64"]) : ["int32"];
      if (c.throws) {
        const { error, message } = c.throws;
        test(`${op.name} › ${c.name} › error [${backend}]`, () => {
          const inputs = makeInputs(c.inputs, values, dtypes[0], false);
          assert.throws(() => c.call(...inputs), (e: unknown) => {
            assert.ok(e instanceof ig.IngotError, `expected a typed Ingot error, got ${String(e)}`);
            assert.ok(e instanceof error, `expected ${error.name}, got ${(e as Error).name}`);
            assert.match((e as Error).message, message);
            return true;
          });
        });
        continue;
      }
      for (const dt of dtypes) {
        test(`${op.name} › ${c.name} › forward ${hasFloat ? dt : ""} [${backend}]`, () => {
          const want = onRef(() => c.call(...makeInputs(c.inputs, values, hasFloat ? "float64" : dt, false)));
          const got = c.call(...makeInputs(c.inputs, values, dt, false));
          assert.deepEqual([...got.shape], [...want.shape], `shape`);
          // The float64 reference run stands for the dtype under test; other dtypes must match exactly.
          assert.equal(got.dtype, hasFloat && want.dtype === "float64" ? dt : want.dtype, "dtype");
          if (c.random) return;
          const base = TOL[got.dtype];
          const loose = got.dtype === "float32";
          const tol = base
            ? { atol: Math.max(base.atol, loose ? (c.atol ?? 0) : 0), rtol: Math.max(base.rtol, loose ? (c.rtol ?? 0) : 0) }
            : { atol: 0, rtol: 0 };
          compare("forward", got.dataSync() as ArrayLike<number>, want.dataSync() as ArrayLike<number>, tol);
        });
      }
      const gradWanted = c.grad ?? c.inputs.some((s) => isFloatInput(s) && !s.noGrad);
      if (!gradWanted || !hasFloat || c.random) continue;
      test(`${op.name} › ${c.name} › gradient vs finite differences float64 [${backend}]`, () => {
        const inputs = makeInputs(c.inputs, values, "float64", true);
        const r = ig.gradcheck(c.call, inputs);
        const idx = inputs.map((t, i) => (t.requiresGrad ? i : -1)).filter((i) => i >= 0);
        r.analytic.forEach((a, j) => compare(`d/d input ${idx[j]} (analytic vs numeric)`, a, r.numeric[j], { atol: 1e-5, rtol: 1e-4 }));
      });
      if (dtypes.includes("float32"))
        test(`${op.name} › ${c.name} › gradient float32 vs ref float64 [${backend}]`, () => {
          const ref64 = makeInputs(c.inputs, values, "float64", true);
          onRef(() => weighted(c.call(...ref64)).backward());
          const want = gradsOf(ref64, c.inputs);
          const got32 = makeInputs(c.inputs, values, "float32", true);
          weighted(c.call(...got32)).backward();
          const got = gradsOf(got32, c.inputs);
          want.forEach((w, i) => {
            if (!w) return;
            const tol = GRAD_TOL.float32;
            compare(`d/d input ${i}`, got[i]!, w, { atol: Math.max(tol.atol, c.atol ?? 0), rtol: Math.max(tol.rtol, c.rtol ?? 0) });
          });
        });
    }
  }
}
