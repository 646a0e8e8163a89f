// SummaryWriter: PyTorch's torch.utils.tensorboard.SummaryWriter in TypeScript. Writes scalars,
// histograms, text, images (PNG) and hparams to `events.out.tfevents.*` files that TensorBoard reads.
import { hostname } from "node:os";
import { join } from "node:path";
import { type Tensor, ValueError } from "../tensor/index.js";
import { atExit } from "./exit-hooks.js";
import { makeHistogram } from "./histogram.js";
import {
  eventBytes,
  experimentProto,
  FILE_VERSION,
  type HParamValue,
  hparamsPluginData,
  histogramProto,
  imageProto,
  metadataProto,
  sessionEndProto,
  sessionStartProto,
  stringTensorProto,
  summaryProto,
  type SummaryValue,
} from "./messages.js";
import { type DataFormats, encodePng, imagePixels } from "./png.js";
import { RecordWriter } from "./record-writer.js";

export interface SummaryWriterOptions {
  /** Seconds between automatic flushes to disk (default 120, as PyTorch). */
  flushSecs?: number;
  /** Events kept in memory before they are appended to the file (default 10, PyTorch's max_queue). */
  maxQueue?: number;
  /** Appended to the events file name. */
  filenameSuffix?: string;
}

export interface HparamsOptions {
  /**
   * The sub-folder the session is written to (default: the current time in seconds, as PyTorch);
   * "" writes it into this writer's own folder, so the HPARAMS tab links to this run's scalars.
   */
  runName?: string;
  /** The values each hyperparameter can take (shown as filters in the HPARAMS tab). */
  hparamDomainDiscrete?: Record<string, HParamValue[]>;
}

let fileCounter = 0;

/** PyTorch's default folder: runs/<Mon><DD>_<HH>-<MM>-<SS>_<hostname>. */
function defaultLogDir(): string {
  const d = new Date();
  const mon = d.toLocaleString("en-US", { month: "short" });
  const p = (n: number) => String(n).padStart(2, "0");
  return join("runs", `${mon}${p(d.getDate())}_${p(d.getHours())}-${p(d.getMinutes())}-${p(d.getSeconds())}_${hostname()}`);
}

function toNumber(where: string, v: number | Tensor): number {
  if (typeof v === "number") return v;
  if (v && typeof (v as Tensor).item === "function") {
    if ((v as Tensor).size !== 1) throw new ValueError(`${where}: a scalar needs a tensor of one element, got shape [${(v as Tensor).shape.join(",")}]`);
    return (v as Tensor).item();
  }
  throw new ValueError(`${where}: expected a number or a one-element tensor, got ${typeof v}`);
}

function checkTag(where: string, tag: unknown): asserts tag is string {
  if (typeof tag !== "string" || tag.length === 0) throw new ValueError(`${where}: tag must be a non-empty string, got ${JSON.stringify(tag)}`);
}

/**
 * Writes TensorBoard event files into `logDir` (created when missing). Events are buffered and
 * appended; flush() and close() fsync the file, and the process's exit (or Ctrl-C) flushes it too.
 * @example
 * const w = new ingot.tensorboard.SummaryWriter("runs/exp1");
 * for (let step = 0; step < 100; step++) w.addScalar("loss", Math.exp(-step / 30), step);
 * w.close(); // then: tensorboard --logdir runs
 */
export class SummaryWriter {
  readonly logDir: string;
  /** The events file this writer appends to. */
  readonly fileName: string;
  private readonly records: RecordWriter;
  private readonly maxQueue: number;
  private readonly opts: SummaryWriterOptions;
  private queued = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly cancelExitHook: () => void;
  private readonly children = new Map<string, SummaryWriter>();
  private closed = false;

  constructor(logDir?: string, opts: SummaryWriterOptions = {}) {
    this.logDir = logDir ?? defaultLogDir();
    this.opts = opts;
    const flushSecs = opts.flushSecs ?? 120;
    this.maxQueue = opts.maxQueue ?? 10;
    if (!(flushSecs > 0)) throw new ValueError(`SummaryWriter: flushSecs must be > 0, got ${flushSecs}`);
    if (!Number.isInteger(this.maxQueue) || this.maxQueue < 1) throw new ValueError(`SummaryWriter: maxQueue must be an integer ≥ 1, got ${opts.maxQueue}`);
    const now = Date.now() / 1000;
    const name = `events.out.tfevents.${Math.floor(now)}.${hostname()}.${process.pid}.${fileCounter++}${opts.filenameSuffix ?? ""}`;
    this.fileName = join(this.logDir, name);
    this.records = new RecordWriter(this.fileName);
    this.records.write(eventBytes(now, 0, { fileVersion: FILE_VERSION }));
    // Create the file now, so TensorBoard lists the run as soon as it starts.
    this.records.flush(false);
    this.timer = setInterval(() => this.flush(), flushSecs * 1000);
    this.timer.unref();
    this.cancelExitHook = atExit(() => this.close());
  }

  private summary(values: SummaryValue[], step: number | undefined, walltime: number | undefined): void {
    if (this.closed) throw new ValueError(`SummaryWriter: ${this.logDir} is closed; create a new writer to log more`);
    const s = step ?? 0;
    if (!Number.isSafeInteger(s)) throw new ValueError(`SummaryWriter: step must be an integer, got ${step}`);
    this.records.write(eventBytes(walltime ?? Date.now() / 1000, s, { summary: summaryProto(values) }));
    if (++this.queued >= this.maxQueue) {
      this.records.flush(false);
      this.queued = 0;
    }
  }

  /** Logs one scalar (stored as float32, as PyTorch's simple_value). */
  addScalar(tag: string, value: number | Tensor, step?: number, walltime?: number): void {
    checkTag("addScalar", tag);
    this.summary([{ tag, simpleValue: toNumber(`addScalar('${tag}')`, value) }], step, walltime);
  }

  /**
   * Logs several scalars on one chart: each key goes to its own folder `<logDir>/<mainTag>_<key>`
   * under the tag `mainTag` (PyTorch's add_scalars), so TensorBoard draws them as runs side by side.
   */
  addScalars(mainTag: string, values: Record<string, number | Tensor>, step?: number, walltime?: number): void {
    checkTag("addScalars", mainTag);
    const wt = walltime ?? Date.now() / 1000;
    for (const [key, v] of Object.entries(values)) {
      const dir = join(this.logDir, `${mainTag.replace(/\//g, "_")}_${key}`);
      let w = this.children.get(dir);
      if (!w) {
        w = new SummaryWriter(dir, this.opts);
        this.children.set(dir, w);
      }
      w.addScalar(mainTag, v, step, wt);
    }
  }

  /** Logs a histogram of the values: `bins` 'tensorflow' (default, as PyTorch), a count, or edges. */
  addHistogram(tag: string, values: Tensor | ArrayLike<number>, step?: number, bins: number | "tensorflow" | ArrayLike<number> = "tensorflow", walltime?: number): void {
    checkTag("addHistogram", tag);
    const flat = isTensor(values) ? ((values.dtype === "float32" || values.dtype === "float64" ? values : values.to("float32")).dataSync() as ArrayLike<number>) : values;
    const h = makeHistogram(`addHistogram('${tag}')`, flat, bins);
    this.summary([{ tag, histo: histogramProto(h) }], step, walltime);
  }

  /** Logs text (Markdown) for TensorBoard's TEXT tab: a string tensor with the text plugin's metadata. */
  addText(tag: string, text: string, step?: number, walltime?: number): void {
    checkTag("addText", tag);
    if (typeof text !== "string") throw new ValueError(`addText('${tag}'): text must be a string, got ${typeof text}`);
    this.summary([{ tag, tensor: stringTensorProto([text], []), metadata: metadataProto("text") }], step, walltime);
  }

  /** Logs an image tensor (CHW by default; HWC or HW with `dataformats`), as PNG. Floats are in [0, 1]; uint8 in [0, 255]. */
  addImage(tag: string, img: Tensor, step?: number, walltime?: number, dataformats: DataFormats = "CHW"): void {
    checkTag("addImage", tag);
    const { pixels, height, width, channels } = imagePixels(`addImage('${tag}')`, img, dataformats);
    this.summary([{ tag, image: imageProto(height, width, channels, encodePng(pixels, height, width, channels)) }], step, walltime);
  }

  /**
   * Logs one session of a hyperparameter search for TensorBoard's HPARAMS tab: the experiment
   * (hparam and metric names), the session's values, its end (success), and the metrics as scalars.
   */
  addHparams(hparams: Record<string, HParamValue | Tensor>, metrics: Record<string, number | Tensor>, opts: HparamsOptions = {}): void {
    const values: Record<string, HParamValue> = {};
    for (const [k, v] of Object.entries(hparams)) {
      if (typeof v === "number" || typeof v === "string" || typeof v === "boolean") values[k] = v;
      else if (isTensor(v)) values[k] = toNumber(`addHparams('${k}')`, v);
      else throw new ValueError(`addHparams: hyperparameter '${k}' is ${v === null ? "null" : typeof v}; TensorBoard shows numbers, strings and booleans`);
    }
    const runName = opts.runName ?? String(Date.now() / 1000);
    const w = runName === "" ? this : new SummaryWriter(join(this.logDir, runName), this.opts);
    const now = Date.now() / 1000;
    const meta = (field: 2 | 3 | 4, m: Parameters<typeof hparamsPluginData>[1]) => metadataProto("hparams", hparamsPluginData(field, m));
    w.summary([{ tag: "_hparams_/experiment", metadata: meta(2, experimentProto(values, Object.keys(metrics), opts.hparamDomainDiscrete ?? {}, now)) }], 0, now);
    w.summary([{ tag: "_hparams_/session_start_info", metadata: meta(3, sessionStartProto(values, now)) }], 0, now);
    w.summary([{ tag: "_hparams_/session_end_info", metadata: meta(4, sessionEndProto(1, now)) }], 0, now);
    for (const [k, v] of Object.entries(metrics)) w.addScalar(k, v, 0, now);
    if (w !== this) w.close();
  }

  /** Appends everything buffered to the file and fsyncs it (also the addScalars folders). */
  flush(): void {
    if (this.closed) return;
    this.records.flush(true);
    this.queued = 0;
    for (const c of this.children.values()) c.flush();
  }

  /** Flushes and closes the file (and the addScalars folders). Closing twice does nothing. */
  close(): void {
    if (this.closed) return;
    for (const c of this.children.values()) c.close();
    this.records.close();
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.cancelExitHook();
  }
}

function isTensor(v: unknown): v is Tensor {
  return typeof v === "object" && v !== null && typeof (v as Tensor).dataSync === "function" && Array.isArray((v as Tensor).shape);
}
