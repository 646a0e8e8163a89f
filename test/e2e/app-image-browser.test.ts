// The image service end to end in Chromium: the app trains the seed CNN on Fashion-MNIST and quantizes
// it to int8 in a fresh model folder, then serves it. The served model's accuracy on the whole test
// set (through the predict route) must be ≥ 80 %; the first test image of the class it recognizes
// best is written as a PNG, uploaded on the page, decoded by the page's canvas to exactly the
// dataset's 784 pixels, and the page shows that image's true label. Drawing on the canvas predicts too.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import * as ingot from "../../src/index.js";
import { encodePng } from "../../src/tensorboard/png.js";
import { chromiumSkip, launchChromium, shutDown, startApp } from "./apps-common.js";
import { noNativeBackend } from "../unit/requirements.js";

const DATA = process.env.INGOT_DATA ? resolve(process.env.INGOT_DATA) : null;
const hasData = !!DATA && existsSync(join(DATA, "fashion-mnist", "t10k-images-idx3-ubyte.gz"));
const skip = chromiumSkip || (hasData ? false : `no Fashion-MNIST in ${DATA ? join(DATA, "fashion-mnist") : "INGOT_DATA (unset)"}: set INGOT_DATA=../shared/data`);

test("image service in Chromium: int8 CNN ≥ 80 % on the test set; an uploaded test PNG is decoded exactly and labelled correctly", { skip: noNativeBackend || skip, timeout: 600_000 }, async () => {
  const tmp = mkdtempSync(join(tmpdir(), "ingot-app-image-"));
  const app = await startApp("image-service", ["--model-dir", join(tmp, "model"), "--data", DATA!], 480_000);
  let browser: Awaited<ReturnType<typeof launchChromium>> | null = null;
  try {
    assert.match(app.log(), /int8/, "the app reports the int8 model it trained");
    const { test: split, classes } = await ingot.data.fashionMnist({ dir: join(DATA!, "fashion-mnist") });
    const images = split.images.dataSync() as Uint8Array;
    const labels = split.labels.dataSync() as Int32Array;
    const n = labels.length;

    // The served model's predictions for the whole test split, 1000 images per request.
    const predicted = new Int32Array(n);
    for (let start = 0; start < n; start += 1000) {
      const end = Math.min(n, start + 1000);
      const inputs = Array.from({ length: end - start }, (_, i) => Array.from(images.subarray((start + i) * 784, (start + i + 1) * 784)));
      const r = await fetch(`${app.url}/v1/models/fashion/predict`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs }) });
      assert.equal(r.status, 200, await r.clone().text());
      const body = (await r.json()) as { predictions: number[]; outputs: number[][] };
      assert.equal(body.outputs[0].length, 10);
      predicted.set(body.predictions, start);
    }
    const correct = Array.from({ length: 10 }, () => 0);
    const total = Array.from({ length: 10 }, () => 0);
    for (let i = 0; i < n; i++) {
      total[labels[i]]++;
      if (predicted[i] === labels[i]) correct[labels[i]]++;
    }
    const accuracy = correct.reduce((a, b) => a + b, 0) / n;
    assert.ok(accuracy >= 0.8, `served int8 model's test accuracy ${accuracy}`);
    // The class the model recognizes best, and the first test image of that class (whatever its prediction).
    const perClass = correct.map((c, k) => c / total[k]);
    const cls = perClass.indexOf(Math.max(...perClass));
    const idx = labels.indexOf(cls);
    const pixels = images.slice(idx * 784, (idx + 1) * 784);
    const png = join(tmp, `fashion-test-${idx}.png`);
    writeFileSync(png, encodePng(pixels, 28, 28, 1));

    browser = await launchChromium();
    const page = await browser.newPage();
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(app.url + "/");
    assert.match(await page.title(), /Fashion-MNIST/);

    // Upload: the page decodes the PNG with a canvas and posts its pixels.
    const request = page.waitForRequest((r) => r.url().endsWith("/v1/models/fashion/predict") && r.method() === "POST");
    await page.setInputFiles("#file", png);
    const sent = JSON.parse((await request).postData() ?? "{}") as { inputs: number[][] };
    assert.deepEqual(sent.inputs[0], Array.from(pixels), "the page sends exactly the image's 784 pixel values");
    await page.waitForFunction(() => !["–", "…"].includes(document.getElementById("label")!.textContent!), null, { timeout: 30_000 });
    assert.equal(await page.textContent("#label"), classes[cls], `test image ${idx} (class ${classes[cls]}, per-class accuracy ${perClass[cls]}) on the page`);
    assert.equal(await page.locator("#top3 .bar").count(), 3);
    assert.match((await page.textContent("#top3 .bar"))!, new RegExp(`^${classes[cls].replace(/[/]/g, "\\/")}\\d+\\.\\d %$`));

    // Drawing: a stroke on the canvas is downscaled and predicted (some class with its probabilities).
    const box = (await page.locator("#draw").boundingBox())!;
    await page.mouse.move(box.x + 90, box.y + 40);
    await page.mouse.down();
    await page.mouse.move(box.x + 140, box.y + 240, { steps: 8 });
    await page.mouse.move(box.x + 190, box.y + 40, { steps: 8 });
    await page.mouse.up();
    const drawn = page.waitForRequest((r) => r.url().endsWith("/predict"));
    await page.click("#predict");
    const drawnPixels = (JSON.parse((await drawn).postData() ?? "{}") as { inputs: number[][] }).inputs[0];
    assert.equal(drawnPixels.length, 784);
    assert.ok(drawnPixels.filter((p) => p > 128).length > 20, "the stroke is in the 28×28 input");
    await page.waitForFunction(() => document.getElementById("label")!.textContent !== "…");
    assert.ok(classes.includes((await page.textContent("#label"))!));
    assert.deepEqual(errors, []);
  } finally {
    await shutDown(app, browser, tmp);
  }
});
