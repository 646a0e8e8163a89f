// The dashboard in a real browser (Debian's Chromium driven by playwright-core, headless): a run
// with known metric points is charted with exactly those points, a point logged while the page is
// open appears without a reload, the filters narrow the table, and a screenshot (decoded here
// with node:zlib) shows the series colour at every plotted point.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { inflateSync } from "node:zlib";
import * as ingot from "../../src/index.js";
import { createDashboard } from "../../src/dashboard/index.js";
import { noRunStore } from "../unit/requirements.js";

const CHROMIUM = "/usr/bin/chromium";
const skip = existsSync(CHROMIUM) ? false : `${CHROMIUM} is missing: install Debian's chromium (apt-get install chromium) to run the browser test`;
const tmp = mkdtempSync(join(tmpdir(), "ingot-dash-browser-"));
process.on("exit", () => rmSync(tmp, { recursive: true, force: true }));

/** Decodes an 8-bit, non-interlaced RGB or RGBA PNG (what Chromium's screenshots are) into RGBA rows. */
function decodePng(buf: Buffer): { width: number; height: number; rgba: Uint8Array } {
  assert.deepEqual([...buf.subarray(0, 8)], [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a], "PNG signature");
  let off = 8;
  let width = 0;
  let height = 0;
  let colorType = 0;
  const idat: Buffer[] = [];
  while (off < buf.length) {
    const len = buf.readUInt32BE(off);
    const type = buf.toString("latin1", off + 4, off + 8);
    const data = buf.subarray(off + 8, off + 8 + len);
    if (type === "IHDR") {
      width = data.readUInt32BE(0);
      height = data.readUInt32BE(4);
      assert.equal(data[8], 8, "bit depth 8");
      colorType = data[9];
      assert.ok(colorType === 2 || colorType === 6, `colour type ${colorType}`);
      assert.equal(data[12], 0, "not interlaced");
    } else if (type === "IDAT") idat.push(data);
    else if (type === "IEND") break;
    off += 12 + len;
  }
  const ch = colorType === 6 ? 4 : 3;
  const raw = inflateSync(Buffer.concat(idat));
  const stride = width * ch;
  const cur = new Uint8Array(stride);
  const prev = new Uint8Array(stride);
  const rgba = new Uint8Array(width * height * 4);
  for (let y = 0; y < height; y++) {
    const f = raw[y * (stride + 1)];
    const row = raw.subarray(y * (stride + 1) + 1, (y + 1) * (stride + 1));
    for (let i = 0; i < stride; i++) {
      const a = i >= ch ? cur[i - ch] : 0;
      const b = prev[i];
      const c = i >= ch ? prev[i - ch] : 0;
      let p: number;
      if (f === 0) p = 0;
      else if (f === 1) p = a;
      else if (f === 2) p = b;
      else if (f === 3) p = (a + b) >> 1;
      else {
        // Paeth
        const pa = Math.abs(b - c);
        const pb = Math.abs(a - c);
        const pc = Math.abs(a + b - 2 * c);
        p = pa <= pb && pa <= pc ? a : pb <= pc ? b : c;
      }
      cur[i] = (row[i] + p) & 0xff;
    }
    for (let x = 0; x < width; x++) {
      rgba.set(cur.subarray(x * ch, x * ch + 3), (y * width + x) * 4);
      rgba[(y * width + x) * 4 + 3] = ch === 4 ? cur[x * ch + 3] : 255;
    }
    prev.set(cur);
  }
  return { width, height, rgba };
}

test("dashboard in Chromium: the chart shows exactly the logged points, updates live, filters work, the screenshot shows the series", { skip: noRunStore || skip, timeout: 120_000 }, async () => {
  const { chromium } = await import("playwright-core");
  const db = join(tmp, "home", "runs.db");
  const store = ingot.tracking.RunStore.open(db);
  const run = store.startRun({ name: "browser-mlp", command: "train browser-mlp", config: { lr: 0.01, tags: ["nightly"] }, seed: 1, gitDir: false });
  const logged: [number, number][] = [[1, 2.5], [2, 1.75], [3, 1.3125], [4, 1.1], [5, 0.9]];
  for (const [step, loss] of logged) run.log({ loss, accuracy: 1 - loss / 3 }, step);
  const other = store.startRun({ name: "other-recipe", command: "train other-recipe", config: { lr: 0.1 }, seed: 2, gitDir: false });
  other.log({ loss: 3 }, 1);
  other.finish({ test_accuracy: 0.5 });

  const dash = createDashboard({ db, port: 0, pollMs: 250 });
  const url = await dash.listen();
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 900 }, deviceScaleFactor: 1 });
    const requests: string[] = [];
    page.on("request", (r) => requests.push(r.url()));
    const errors: string[] = [];
    page.on("pageerror", (e) => errors.push(e.message));
    await page.goto(url);
    await page.waitForSelector(`#runs tr[data-run="${run.id}"]`);
    assert.equal(await page.locator("#runs tbody tr").count(), 2);
    assert.equal(await page.locator(`#runs tr[data-run="${run.id}"] td.status-running`).count(), 1);

    // Filters: tag, status and the name text, each narrowing the table.
    await page.fill("#f-tag", "nightly");
    await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr").length === 1);
    assert.equal(await page.locator(`#runs tr[data-run="${run.id}"]`).count(), 1);
    await page.fill("#f-tag", "");
    await page.selectOption("#f-status", "finished");
    await page.waitForFunction((id) => document.querySelectorAll("#runs tbody tr").length === 1 && !!document.querySelector(`#runs tr[data-run="${id}"]`), other.id);
    await page.selectOption("#f-status", "");
    await page.fill("#f-q", "browser");
    await page.waitForFunction((id) => document.querySelectorAll("#runs tbody tr").length === 1 && !!document.querySelector(`#runs tr[data-run="${id}"]`), run.id);
    await page.fill("#f-q", "");
    await page.waitForFunction(() => document.querySelectorAll("#runs tbody tr").length === 2);

    // Tick the run: the chart draws its loss, one circle per logged point.
    await page.check(`#runs tr[data-run="${run.id}"] input.sel`);
    const circles = `#chart circle[data-run="${run.id}"]`;
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 5, circles);
    assert.equal(await page.inputValue("#metric"), "loss");
    const read = () =>
      page.$$eval(circles, (cs) => cs.map((c) => ({ step: Number(c.getAttribute("data-step")), value: Number(c.getAttribute("data-value")), cx: Number(c.getAttribute("cx")), cy: Number(c.getAttribute("cy")) })));
    const pts = await read();
    assert.deepEqual(pts.map((p) => [p.step, p.value]), logged);
    // The coordinates are the values on the chart's axes: x grows with the step, y falls with the value, linearly.
    const ax = await page.$eval("#chart", (s) => ["x-min", "x-max", "y-min", "y-max"].map((k) => Number(s.getAttribute(`data-${k}`))));
    const [W, H, L, R, T, B] = [720, 340, 64, 16, 14, 34];
    for (const p of pts) {
      assert.ok(Math.abs(p.cx - (L + ((p.step - ax[0]) / (ax[1] - ax[0])) * (W - L - R))) < 0.01, `cx of step ${p.step}`);
      assert.ok(Math.abs(p.cy - (H - B - ((p.value - ax[2]) / (ax[3] - ax[2])) * (H - T - B))) < 0.01, `cy of step ${p.step}`);
    }
    assert.ok(ax[2] <= 0.9 && ax[3] >= 2.5, "the y axis spans the values");

    // Another metric from the menu.
    await page.selectOption("#metric", "accuracy");
    await page.waitForFunction((sel) => [...document.querySelectorAll(sel)].every((c) => c.getAttribute("data-key") === "accuracy"), circles);
    assert.deepEqual((await read()).map((p) => p.value), logged.map(([, l]) => 1 - l / 3));
    await page.selectOption("#metric", "loss");

    // Live: a point logged now appears without reloading the page.
    run.log({ loss: 0.8 }, 6);
    await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 6, circles, { timeout: 15_000 });
    const after = await read();
    assert.deepEqual(after[5], { ...after[5], step: 6, value: 0.8 });

    // Comparing: ticking a second run adds its series, in another colour, on the same axes.
    await page.check(`#runs tr[data-run="${other.id}"] input.sel`);
    await page.waitForFunction((id) => document.querySelectorAll(`#chart circle[data-run="${id}"]`).length === 1, other.id);
    const second = await page.$eval(`#chart circle[data-run="${other.id}"]`, (c) => ({ step: c.getAttribute("data-step"), value: c.getAttribute("data-value"), fill: c.getAttribute("fill") }));
    assert.deepEqual(second, { step: "1", value: "3", fill: "#d62728" });
    assert.equal(await page.$eval(circles, (c) => c.getAttribute("fill")), "#1f77b4");
    assert.match((await page.textContent("#legend"))!, new RegExp(`${run.id} \\(6\\).*${other.id} \\(1\\)`));
    await page.uncheck(`#runs tr[data-run="${other.id}"] input.sel`);
    await page.waitForFunction((id) => document.querySelectorAll(`#chart circle[data-run="${id}"]`).length === 0, other.id);

    // The details of the run: its config and final metrics.
    await page.click(`#runs a.run[data-run="${run.id}"]`);
    await page.waitForSelector(`#details[data-run="${run.id}"] h2`);
    const details = await page.textContent("#details");
    assert.match(details!, /browser-mlp/);
    assert.match(details!, /lr\s*0\.01/);

    // The screenshot: the right size, and the series colour (#1f77b4) at each plotted point.
    const shotPath = join(tmp, "dashboard.png");
    await page.screenshot({ path: shotPath });
    const png = decodePng(readFileSync(shotPath));
    assert.equal(png.width, 1400);
    assert.equal(png.height, 900);
    const box = (await page.locator("#chart").boundingBox())!;
    const isSeries = (x: number, y: number) => {
      const i = (Math.round(y) * png.width + Math.round(x)) * 4;
      const [r, g, b] = [png.rgba[i], png.rgba[i + 1], png.rgba[i + 2]];
      return Math.abs(r - 0x1f) <= 12 && Math.abs(g - 0x77) <= 12 && Math.abs(b - 0xb4) <= 12;
    };
    // The chart's box has a 1 px border; the SVG's user units are CSS pixels (viewBox = size).
    for (const p of after) assert.ok(isSeries(box.x + 1 + p.cx, box.y + 1 + p.cy), `series colour at step ${p.step} (${p.cx}, ${p.cy})`);
    let inChart = 0;
    for (let y = Math.ceil(box.y); y < box.y + box.height; y++) for (let x = Math.ceil(box.x); x < box.x + box.width; x++) if (isSeries(x, y)) inChart++;
    assert.ok(inChart > 200, `${inChart} pixels of the series colour in the chart (line and 6 points)`);
    // A point of the white background between the axes has no series colour.
    assert.ok(!isSeries(box.x + 1 + W - R - 2, box.y + 1 + T + 2));

    assert.deepEqual(errors, [], "no script errors");
    assert.ok(requests.every((u) => u.startsWith(url)), `only the dashboard's own URLs are loaded: ${requests.filter((u) => !u.startsWith(url)).join(", ")}`);
  } finally {
    await browser.close();
    await dash.close();
    run.finish();
    store.close();
  }
});
