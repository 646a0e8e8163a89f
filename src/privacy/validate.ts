// Modules that break DP-SGD's per-sample guarantees (Opacus's ModuleValidator).
import { ValueError } from "../tensor/index.js";
import { BatchNorm1d, BatchNorm2d, Module } from "../nn/index.js";
import { BatchNormalization } from "../keras/layers/normalization.js";
import { Layer } from "../keras/layers/base.js";

/** One reason a module cannot be trained privately. */
export interface ValidationError {
  module: string;
  message: string;
}

/** Lists the problems (empty when the model can be trained with DP-SGD). */
export function findPrivacyErrors(model: Module): ValidationError[] {
  const out: ValidationError[] = [];
  for (const [name, m] of model.namedModules()) {
    const where = name || "(model)";
    const cls = m.constructor.name;
    if (m instanceof BatchNorm1d || m instanceof BatchNorm2d || m instanceof BatchNormalization)
      out.push({
        module: where,
        message: `${where} (${cls}) normalizes with statistics of the whole batch, so one sample's gradient depends on the others and per-sample clipping bounds nothing; replace it with GroupNorm (nn.GroupNorm(numGroups, C)) or LayerNorm`,
      });
    const hasParams = m.namedParameters({ recurse: false }).some(([, p]) => p.requiresGrad);
    if (hasParams && (m as { batchFirst?: unknown }).batchFirst === false)
      out.push({ module: where, message: `${where} (${cls}) takes the batch along dim 1; per-sample gradients need it along dim 0: build it with batchFirst: true` });
    if (m instanceof Layer && (m as unknown as { regularized: unknown[] }).regularized.length)
      out.push({ module: where, message: `${where} (${cls}) has a weight regularizer; its penalty is not a per-sample term and is not supported with DP-SGD yet: remove the regularizer (use the optimizer's weightDecay instead)` });
  }
  return out;
}

/** Throws a ValueError listing every module that breaks privacy; returns the model otherwise. */
export function validateModule<M extends Module>(model: M): M {
  const errs = findPrivacyErrors(model);
  if (errs.length) throw new ValueError(`this model cannot be trained with differential privacy:\n${errs.map((e) => `  - ${e.message}`).join("\n")}`);
  return model;
}
