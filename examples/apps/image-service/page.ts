// The image service's page: draw a garment on a canvas or upload a picture; the browser turns it into
// a 28×28 grayscale image (light object on a dark background, as Fashion-MNIST's), posts the 784
// pixel values (0–255) to `ingot serve`'s predict route and shows the label and top-3 probabilities.
import { page } from "../shared.js";

const CSS = `
  .row { display: flex; gap: 1.2rem; flex-wrap: wrap; align-items: flex-start; }
  #draw { background: #000; border-radius: 6px; touch-action: none; cursor: crosshair; }
  #preview { width: 112px; height: 112px; image-rendering: pixelated; background: #000; border-radius: 4px; }
  .tools { display: flex; gap: .5rem; margin-top: .6rem; align-items: center; flex-wrap: wrap; }
  #label { font-size: 1.5rem; font-weight: 600; margin: .2rem 0 .6rem; }
  .bar { display: grid; grid-template-columns: 8rem 1fr 4rem; gap: .5rem; align-items: center; margin: .25rem 0; }
  .bar .fill { height: .8rem; background: #2f5bea; border-radius: 3px; }
  .bar .num { text-align: right; font-variant-numeric: tabular-nums; }
`;

const BODY = (model: string, classes: string[], accuracy: string) => `
<h1>Fashion-MNIST image service</h1>
<p class="sub">The seed CNN, int8-quantized, served by <code>ingot serve</code> (model <code>${model}</code>, test accuracy ${accuracy}).
Draw a garment (light on dark) or upload a picture.</p>
<div class="card row">
  <div>
    <canvas id="draw" width="280" height="280" aria-label="drawing area"></canvas>
    <div class="tools">
      <button id="predict" type="button">Predict drawing</button>
      <button id="clear" type="button">Clear</button>
      <label>or upload: <input id="file" type="file" accept="image/*"></label>
    </div>
  </div>
  <div>
    <div>Model input (28×28)</div>
    <canvas id="preview" width="28" height="28"></canvas>
    <div id="label" data-testid="label">–</div>
    <div id="top3" data-testid="top3"></div>
    <div id="error" class="err" role="alert"></div>
  </div>
</div>
<footer>POST /v1/models/${model}/predict with {"inputs": [[784 pixel values]]}; the server divides by 255 as the model was trained.</footer>
<script type="application/json" id="meta">${JSON.stringify({ model, classes }).replace(/</g, "\\u003c")}</script>
`;

const SCRIPT = `
const { model, classes } = JSON.parse(document.getElementById("meta").textContent);
const draw = document.getElementById("draw"), dctx = draw.getContext("2d");
const preview = document.getElementById("preview"), pctx = preview.getContext("2d", { willReadFrequently: true });
const $ = (id) => document.getElementById(id);
function clear() { dctx.fillStyle = "#000"; dctx.fillRect(0, 0, draw.width, draw.height); }
clear();
let last = null;
draw.addEventListener("pointerdown", (e) => { last = [e.offsetX, e.offsetY]; draw.setPointerCapture(e.pointerId); stroke(e); });
draw.addEventListener("pointermove", (e) => { if (last) stroke(e); });
draw.addEventListener("pointerup", () => { last = null; });
function stroke(e) {
  dctx.strokeStyle = "#fff"; dctx.lineWidth = 22; dctx.lineCap = "round"; dctx.lineJoin = "round";
  dctx.beginPath(); dctx.moveTo(last[0], last[1]); dctx.lineTo(e.offsetX, e.offsetY); dctx.stroke();
  last = [e.offsetX, e.offsetY];
}

// Any image → 28×28 grayscale: scaled to fit (aspect kept) and centred on black, then inverted when its
// border is light (a photo of a dark object on a light background), so the object is light on dark.
function toPixels(source, w, h) {
  const s = Math.min(28 / w, 28 / h), dw = w * s, dh = h * s;
  pctx.imageSmoothingEnabled = true; pctx.imageSmoothingQuality = "high";
  pctx.fillStyle = "#000"; pctx.fillRect(0, 0, 28, 28);
  pctx.drawImage(source, (28 - dw) / 2, (28 - dh) / 2, dw, dh);
  const rgba = pctx.getImageData(0, 0, 28, 28).data;
  const px = new Array(784);
  for (let i = 0; i < 784; i++) px[i] = Math.round(0.299 * rgba[4 * i] + 0.587 * rgba[4 * i + 1] + 0.114 * rgba[4 * i + 2]);
  // The drawn rectangle (the rest is the black letterbox) and the mean brightness of its edge pixels.
  const x0 = Math.ceil((28 - dw) / 2), y0 = Math.ceil((28 - dh) / 2), x1 = Math.floor((28 + dw) / 2) - 1, y1 = Math.floor((28 + dh) / 2) - 1;
  let border = 0, n = 0;
  for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) if (y === y0 || y === y1 || x === x0 || x === x1) { border += px[y * 28 + x]; n++; }
  if (n && border / n > 127) for (let y = y0; y <= y1; y++) for (let x = x0; x <= x1; x++) px[y * 28 + x] = 255 - px[y * 28 + x];
  const img = pctx.createImageData(28, 28);
  for (let i = 0; i < 784; i++) { img.data[4 * i] = img.data[4 * i + 1] = img.data[4 * i + 2] = px[i]; img.data[4 * i + 3] = 255; }
  pctx.putImageData(img, 0, 0);
  return px;
}

async function predict(px) {
  $("error").textContent = ""; $("label").textContent = "…";
  try {
    const r = await fetch("/v1/models/" + model + "/predict", { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ inputs: [px] }) });
    const body = await r.json();
    if (!r.ok) throw new Error(body.error ? body.error.message : r.statusText);
    const probs = body.outputs[0];
    const top = probs.map((p, i) => [p, i]).sort((a, b) => b[0] - a[0]).slice(0, 3);
    $("label").textContent = classes[body.predictions[0]];
    $("top3").replaceChildren(...top.map(([p, i]) => {
      const row = document.createElement("div"); row.className = "bar";
      const name = document.createElement("span"); name.textContent = classes[i];
      const track = document.createElement("div"); const fill = document.createElement("div"); fill.className = "fill"; fill.style.width = (100 * p).toFixed(1) + "%"; track.append(fill);
      const num = document.createElement("span"); num.className = "num"; num.textContent = (100 * p).toFixed(1) + " %";
      row.append(name, track, num); return row;
    }));
  } catch (e) { $("label").textContent = "–"; $("error").textContent = "Prediction failed: " + e.message; }
}

$("clear").addEventListener("click", () => { clear(); });
$("predict").addEventListener("click", () => predict(toPixels(draw, draw.width, draw.height)));
$("file").addEventListener("change", async (e) => {
  const f = e.target.files[0];
  if (!f) return;
  try {
    const bmp = await createImageBitmap(f);
    await predict(toPixels(bmp, bmp.width, bmp.height));
  } catch (err) { $("error").textContent = "Cannot read " + f.name + " as an image: " + err.message; }
});
`;

/** The page for a served model name, its class names and the accuracy to show. */
export function imagePage(model: string, classes: string[], accuracy: string): string {
  return page("Fashion-MNIST image service", CSS, BODY(model, classes, accuracy), SCRIPT);
}
