// ingot.data image transforms and ImageDataGenerator: exact geometry (flips, 90° rotations, pixel
// shifts, fill modes, bilinear half-pixel shifts, zoom), seeded repeatability, gradients, flow().
import { test } from "node:test";
import assert from "node:assert/strict";
import * as ig from "../../src/index.js";

const { data } = ig;
type Img = number[][][][];

/** NHWC batch [n, h, w, c] with value 100·b + 10·row + col (+ 0.5·channel), so every pixel is distinct. */
function grid(n: number, h: number, w: number, c = 1, dtype: "float32" | "float64" = "float32"): ig.Tensor {
  const v: number[] = [];
  for (let b = 0; b < n; b++) for (let i = 0; i < h; i++) for (let j = 0; j < w; j++) for (let k = 0; k < c; k++) v.push(100 * b + 10 * i + j + 0.5 * k);
  return ig.tensor(v, { shape: [n, h, w, c], dtype });
}

/** The H×W plane of image b, channel 0. */
const plane = (x: ig.Tensor, b = 0) => (x.toArray() as Img)[b].map((row) => row.map((px) => px[0]));

function close(got: number[][], want: number[][], tol = 1e-5): void {
  assert.equal(got.length, want.length);
  got.forEach((row, i) => row.forEach((v, j) => assert.ok(Math.abs(v - want[i][j]) <= tol, `[${i}][${j}]: got ${v}, want ${want[i][j]}`)));
}

test("flips are exact: the affine flip equals ig.flip, and randomFlip flips each image or leaves it", () => {
  const x = grid(2, 3, 4, 2);
  assert.deepEqual(data.affineTransform(x, data.flipMatrix(true, false, 3, 4)).toArray(), ig.flip(x, 2).toArray());
  assert.deepEqual(data.affineTransform(x, data.flipMatrix(false, true, 3, 4), { interpolation: "nearest" }).toArray(), ig.flip(x, 1).toArray());
  assert.deepEqual(data.affineTransform(x, data.flipMatrix(true, true, 3, 4)).toArray(), ig.flip(x, [1, 2]).toArray());
  const many = ig.cat(Array.from({ length: 16 }, () => grid(1, 3, 4)), 0);
  ig.manualSeed(11);
  const out = data.randomFlip(many, { mode: "horizontal" });
  const same = grid(1, 3, 4).toArray() as Img;
  const flipped = ig.flip(grid(1, 3, 4), 2).toArray() as Img;
  const kinds = (out.toArray() as Img).map((img) => (JSON.stringify(img) === JSON.stringify(same[0]) ? "same" : JSON.stringify(img) === JSON.stringify(flipped[0]) ? "flipped" : "other"));
  assert.ok(!kinds.includes("other"), "every image is either unchanged or mirrored exactly");
  assert.ok(kinds.includes("same") && kinds.includes("flipped"), "both happen in 16 draws");
  ig.manualSeed(11);
  assert.deepEqual(data.randomFlip(many, { mode: "horizontal" }).toArray(), out.toArray(), "manualSeed repeats the draws");
});

test("a 90° rotation of a square image is a transpose then an up-down flip (counter-clockwise), bilinear or nearest", () => {
  const x = grid(1, 4, 4);
  // out[i][j] = in[j][n-1-i]: the right column becomes the top row.
  const want = ig.flip(x.permute(0, 2, 1, 3), 1).toArray();
  assert.deepEqual(data.rotate(x, Math.PI / 2).toArray(), want);
  assert.deepEqual(data.rotate(x, Math.PI / 2, { interpolation: "nearest" }).toArray(), want);
  assert.deepEqual(plane(data.rotate(x, Math.PI / 2))[0], [3, 13, 23, 33]);
  // randomRotation with the range [0.25, 0.25] of a turn is exactly 90°.
  assert.deepEqual(data.randomRotation(x, [0.25, 0.25]).toArray(), want);
  assert.deepEqual(data.rotate(x, Math.PI).toArray(), ig.flip(x, [1, 2]).toArray());
  // NCHW gives the same pixels as NHWC.
  const xc = grid(2, 5, 5, 3);
  const a = data.rotate(xc, 0.4);
  const b = data.rotate(xc.permute(0, 3, 1, 2), 0.4, { dataFormat: "channelsFirst" });
  const diff = ig.sub(a, b.permute(0, 2, 3, 1)).abs().max().item();
  assert.ok(diff < 1e-5, `NHWC vs NCHW differ by ${diff}`);
});

test("shifts move pixels by the right amount; fill modes decide what enters", () => {
  const x = grid(1, 3, 4);
  // One pixel right: column j shows old column j-1.
  assert.deepEqual(plane(data.translate(x, 1, 0, { fillMode: "constant" })), [[0, 0, 1, 2], [0, 10, 11, 12], [0, 20, 21, 22]]);
  assert.deepEqual(plane(data.translate(x, 1, 0, { fillMode: "constant", fillValue: -1 })).map((r) => r[0]), [-1, -1, -1]);
  assert.deepEqual(plane(data.translate(x, 1, 0, { fillMode: "nearest" }))[0], [0, 0, 1, 2]);
  assert.deepEqual(plane(data.translate(x, 2, 0, { fillMode: "reflect" }))[0], [1, 0, 0, 1], "d c b a | a b c d");
  assert.deepEqual(plane(data.translate(x, 1, 0, { fillMode: "wrap" }))[0], [3, 0, 1, 2]);
  // Two pixels down, one left.
  assert.deepEqual(plane(data.translate(x, -1, 2, { fillMode: "constant" })), [[0, 0, 0, 0], [0, 0, 0, 0], [1, 2, 3, 0]]);
  // Half a pixel right, bilinear: the mean of the two neighbours.
  close(plane(data.translate(x, 0.5, 0, { fillMode: "constant" })), [[0, 0.5, 1.5, 2.5], [5, 10.5, 11.5, 12.5], [10, 20.5, 21.5, 22.5]]);
  // randomTranslation with a fixed factor: 0.25 of the width 4 is one pixel.
  assert.deepEqual(data.randomTranslation(x, [0, 0], [0.25, 0.25], { fillMode: "constant" }).toArray(), data.translate(x, 1, 0, { fillMode: "constant" }).toArray());
  // An unbatched image [H, W, C] keeps its rank.
  assert.deepEqual(data.translate(x.squeeze(0), 0, 1, { fillMode: "constant" }).shape, [3, 4, 1]);
});

test("zoom samples about the centre: 0.5 zooms in (bilinear between pixels), 2 zooms out (fill)", () => {
  const x = grid(1, 5, 5);
  const zin = plane(data.zoom(x, 0.5));
  assert.equal(zin[0][0], 11);
  assert.equal(zin[2][2], 22);
  assert.equal(zin[4][4], 33);
  assert.ok(Math.abs(zin[1][1] - (11 + 12 + 21 + 22) / 4) < 1e-5, "between four pixels: their mean");
  const zout = plane(data.zoom(x, 2, 2, { fillMode: "constant", fillValue: -1 }));
  assert.deepEqual(zout[0], [-1, -1, -1, -1, -1]);
  assert.deepEqual([zout[1][1], zout[2][2], zout[3][3]], [0, 22, 44]);
  ig.manualSeed(2);
  const r = data.randomZoom(x, [1, 1], null, { fillMode: "constant", fillValue: -1 });
  assert.deepEqual(r.toArray(), data.zoom(x, 2, 2, { fillMode: "constant", fillValue: -1 }).toArray(), "factor 1 → zoom 2");
  assert.throws(() => data.randomZoom(x, [-1, 0]), /randomZoom: factors must stay above -1/);
});

test("randomCrop: each image gets its own window, copied exactly; seeded", () => {
  const x = grid(6, 5, 6);
  ig.manualSeed(4);
  const out = data.randomCrop(x, 3, 2);
  assert.deepEqual(out.shape, [6, 3, 2, 1]);
  const offsets = (out.toArray() as Img).map((img, b) => {
    const top = Math.floor((img[0][0][0] - 100 * b) / 10);
    const left = (img[0][0][0] - 100 * b) % 10;
    assert.deepEqual(img, (data.crop(x, top, left, 3, 2).toArray() as Img)[b], `image ${b} is the window at ${top},${left}`);
    return `${top},${left}`;
  });
  assert.ok(new Set(offsets).size > 1, "the windows differ between images");
  ig.manualSeed(4);
  assert.deepEqual(data.randomCrop(x, 3, 2).toArray(), out.toArray());
  assert.throws(() => data.randomCrop(x, 6, 2), /randomCrop: a 6×2 crop does not fit in 5×6 images/);
});

test("transforms are seeded by the default generator or a seed, and differentiable", () => {
  const x = grid(3, 6, 6, 2, "float64");
  ig.manualSeed(5);
  const a = data.randomRotation(x, 0.1);
  ig.manualSeed(5);
  assert.deepEqual(data.randomRotation(x, 0.1).toArray(), a.toArray());
  assert.notDeepEqual(data.randomRotation(x, 0.1).toArray(), a.toArray());
  assert.deepEqual(data.randomRotation(x, 0.1, { seed: 9 }).toArray(), data.randomRotation(x, 0.1, { generator: new ig.Generator(9) }).toArray());
  assert.equal(a.dtype, "float64");
  // Images that require grad take the op path (gather/mul/add); the plain data path gives the same values.
  for (const dataFormat of ["channelsLast", "channelsFirst"] as const) {
    const opts = { fillMode: "constant" as const, fillValue: 7, dataFormat };
    const mats = [data.rotationMatrix(0.3, 6, 6), data.zoomMatrix(1.3, 0.8, 6, 6)];
    const plainOut = data.affineTransform(grid(2, 6, 6, 3), mats, opts);
    const viaOps = data.affineTransform(grid(2, 6, 6, 3).requiresGrad_(), mats, opts);
    assert.ok(viaOps.gradFn !== null && plainOut.gradFn === null);
    const d = ig.sub(plainOut, viaOps.detach()).abs().max().item();
    assert.ok(d < 1e-4, `${dataFormat}: paths differ by ${d}`);
  }
  // Gradient of the sum of a one-pixel shift (constant fill): 1 where a pixel stays inside, 0 for the column pushed out.
  const g = grid(1, 2, 3).requiresGrad_();
  data.translate(g, 1, 0, { fillMode: "constant" }).sum().backward();
  assert.deepEqual(plane(g.grad!), [[1, 1, 0], [1, 1, 0]]);
  // Bilinear weights sum to one per output pixel: the total gradient equals the pixel count when nothing leaves.
  const h = grid(1, 4, 4).requiresGrad_();
  data.translate(h, 0.5, 0, { fillMode: "nearest" }).sum().backward();
  assert.ok(Math.abs(h.grad!.sum().item() - 16) < 1e-5);
  assert.throws(() => data.rotate(ig.zeros([1, 2, 2, 1], { dtype: "int32" }), 1), { name: "DTypeError", message: /rotate: images must be float32 or float64, got int32/ });
  assert.throws(() => data.rotate(ig.zeros(2, 2), 1), { name: "ShapeError", message: /rotate: expected images \[N, H, W, C\].*got shape \[2,2\]/ });
  assert.throws(() => data.affineTransform(x, [[1, 0, 0, 0, 1, 0]]), /1 matrices for 3 images/);
  assert.throws(() => data.randomRotation(x, [0.2, 0.1]), /factor must be a number or an increasing pair/);
});

test("ImageDataGenerator.flow: batches per epoch, labels stay with their images, seeded, reshuffled each epoch", () => {
  const n = 10;
  const x = grid(n, 4, 4);
  const y = ig.arange(n);
  const plain = data.imageDataGenerator();
  const flow = plain.flow(x, y, { batchSize: 4, seed: 1 });
  assert.equal(flow.length, 3);
  const epoch = () => [...flow];
  const e1 = epoch();
  assert.deepEqual(e1.map(([xb]) => xb.shape[0]), [4, 4, 2]);
  const ids = e1.flatMap(([, yb]) => yb.toFlatArray());
  assert.deepEqual([...ids].sort((a, b) => a - b), Array.from({ length: n }, (_, i) => i));
  e1.forEach(([xb, yb]) => yb.toFlatArray().forEach((i, k) => assert.deepEqual((xb.toArray() as Img)[k], (x.toArray() as Img)[i])));
  assert.notDeepEqual(epoch().flatMap(([, yb]) => yb.toFlatArray()), ids, "the second epoch has a new order");
  assert.deepEqual(plain.flow(x, y, { batchSize: 4, seed: 1 })[Symbol.iterator]().next().value![1].toArray(), e1[0][1].toArray(), "the same seed repeats");
  const noLabels = [...plain.flow(x, null, { batchSize: 5, shuffle: false })];
  assert.equal(noLabels[0].length, 1);
  assert.deepEqual(noLabels[1][0].toArray(), x.slice(0, 5, 10).toArray());
  assert.throws(() => plain.flow(x, ig.arange(3)), /x has 10 images but y has shape \[3\]/);
});

test("ImageDataGenerator: flips, pixel shifts, rescale, feature-wise normalization, and the seed example's ranges", () => {
  const x = grid(8, 4, 4);
  const y = ig.arange(8);
  const flipper = data.imageDataGenerator({ horizontalFlip: true });
  const seen = new Set<string>();
  for (const [xb, yb] of flipper.flow(x, y, { batchSize: 8, seed: 3 }))
    yb.toFlatArray().forEach((i, k) => {
      const img = JSON.stringify((xb.toArray() as Img)[k]);
      const orig = (x.toArray() as Img)[i];
      const kind = img === JSON.stringify(orig) ? "same" : img === JSON.stringify((ig.flip(x, 2).toArray() as Img)[i]) ? "flipped" : "other";
      seen.add(kind);
    });
  assert.deepEqual([...seen].sort(), ["flipped", "same"]);
  // A shift list in pixels: always one pixel right, the entering column copies the edge (fillMode 'nearest').
  const shifter = data.imageDataGenerator({ widthShiftRange: [1] });
  assert.deepEqual(plane(shifter.randomTransform(grid(1, 3, 3))), [[0, 0, 1], [10, 10, 11], [20, 20, 21]]);
  const scaled = data.imageDataGenerator({ rescale: 1 / 255 }).augment(ig.full([1, 2, 2, 1], 255));
  assert.ok(scaled.toFlatArray().every((v) => Math.abs(v - 1) < 1e-6));
  // Feature-wise: per-channel mean and std from fit(); the standardized data has mean 0, std ≈ 1 per channel.
  const xc = grid(4, 3, 3, 2);
  const norm = data.imageDataGenerator({ featurewiseCenter: true, featurewiseStdNormalization: true }).fit(xc);
  assert.ok(Math.abs(norm.mean![1] - norm.mean![0] - 0.5) < 1e-9, "channel 1 is channel 0 + 0.5");
  const z = norm.standardize(xc);
  const m = ig.mean(z, [0, 1, 2]).toFlatArray();
  const s = ig.std(z, [0, 1, 2], { correction: 0 }).toFlatArray();
  m.forEach((v) => assert.ok(Math.abs(v) < 1e-4));
  s.forEach((v) => assert.ok(Math.abs(v - 1) < 1e-4));
  assert.throws(() => data.imageDataGenerator({ featurewiseCenter: true }).standardize(xc), /call fit\(xTrain\) first/);
  // The seed's generator (rotation 20°, shifts 0.2, horizontal flip): shapes kept; bilinear sampling with
  // 'nearest' fill only mixes existing pixels, so values stay within the input's range.
  const seedGen = data.imageDataGenerator({ rotationRange: 20, widthShiftRange: 0.2, heightShiftRange: 0.2, horizontalFlip: true, zoomRange: 0.1, shearRange: 10 });
  seedGen.fit(x);
  const [[xb]] = [...seedGen.flow(x, y, { batchSize: 8, seed: 0 })];
  assert.deepEqual(xb.shape, [8, 4, 4, 1]);
  const lo = x.min().item();
  const hi = x.max().item();
  assert.ok(xb.toFlatArray().every((v) => v >= lo - 1e-4 && v <= hi + 1e-4));
  assert.notDeepEqual(xb.toArray(), x.toArray());
  assert.throws(() => data.imageDataGenerator({ zoomRange: 1.5 }), /zoomRange must be in \[0, 1\)/);
});
