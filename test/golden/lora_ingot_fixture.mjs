// Writes test/golden/lora_ingot/: a LoRA adapter saved by Ingot's nn.saveLoraAdapter for the BERT
// classifier of test/golden/bert.json (float64; rank 4, alpha 8 on query and value; classifier in
// modules_to_save; lora_B and the classifier set to seeded random values, as after training).
// transformers_golden.py loads it with PEFT's PeftModel.from_pretrained on bert.json's weights and
// records the logits; test/unit/lora.test.ts checks that Ingot gives the same.
// Run after `npm run build`:  node test/golden/lora_ingot_fixture.mjs
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import * as ig from "../../dist/src/index.js";

const here = (p) => fileURLToPath(new URL(p, import.meta.url));
const g = JSON.parse(readFileSync(here("./bert.json"), "utf8"));
ig.manualSeed(21);
const m = new ig.models.BertForSequenceClassification({ ...g.config, dtype: "float64" }, g.numLabels);
ig.nn.applyLora(m, { rank: 4, alpha: 8, targetModules: ["query", "value"], modulesToSave: ["classifier"] });
ig.noGrad(() => {
  for (const l of ig.nn.loraLayers(m)) ig.copy_(l.lora_B.weight, ig.randn(l.lora_B.weight.shape, { dtype: "float64" }).mul(0.3));
  ig.copy_(m.classifier.weight, ig.randn(m.classifier.weight.shape, { dtype: "float64" }).mul(0.3));
  ig.copy_(m.classifier.bias, ig.randn(m.classifier.bias.shape, { dtype: "float64" }).mul(0.3));
});
ig.nn.saveLoraAdapter(here("./lora_ingot"), m, { baseModel: "test/golden/bert.json", taskType: "SEQ_CLS" });
console.log("wrote", here("./lora_ingot"), Object.keys(ig.nn.loraStateDict(m)));
