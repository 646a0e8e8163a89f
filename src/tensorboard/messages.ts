// The TensorBoard messages Ingot writes, field by field as in TensorBoard's .proto files:
// tensorboard/compat/proto/{event,summary,histogram,tensor,tensor_shape,types}.proto and the hparams
// plugin's plugins/hparams/{api,plugin_data}.proto (google.protobuf.Value/ListValue/Struct for values).
// Scalar fields with their default value are omitted, as proto3 serializers do; oneof members never are.
import { ProtoWriter } from "./proto.js";

/** Event.file_version of the first record of every events file. */
export const FILE_VERSION = "brain.Event:2";

/** An Event (event.proto): wall_time = 1, step = 2, oneof {file_version = 3, summary = 5}. */
export function eventBytes(wallTime: number, step: number, what: { fileVersion: string } | { summary: ProtoWriter }): Uint8Array {
  const e = new ProtoWriter();
  if (wallTime !== 0) e.double(1, wallTime);
  if (step !== 0) e.varint(2, step);
  if ("fileVersion" in what) e.string(3, what.fileVersion);
  else e.message(5, what.summary);
  return e.finish();
}

/** HistogramProto (histogram.proto); `bucketLimit[i]` is the right edge of `bucket[i]`. */
export interface HistogramData {
  min: number;
  max: number;
  num: number;
  sum: number;
  sumSquares: number;
  bucketLimit: number[];
  bucket: number[];
}

export function histogramProto(h: HistogramData): ProtoWriter {
  const p = new ProtoWriter();
  if (h.min !== 0) p.double(1, h.min);
  if (h.max !== 0) p.double(2, h.max);
  if (h.num !== 0) p.double(3, h.num);
  if (h.sum !== 0) p.double(4, h.sum);
  if (h.sumSquares !== 0) p.double(5, h.sumSquares);
  p.packedDoubles(6, h.bucketLimit);
  p.packedDoubles(7, h.bucket);
  return p;
}

/** types.proto DataType values used here. */
export const DT_FLOAT = 1;
export const DT_DOUBLE = 2;
export const DT_STRING = 7;

/** A TensorProto of strings (tensor.proto: dtype = 1, tensor_shape = 2, string_val = 8), shape [] for one string. */
export function stringTensorProto(values: string[], shape: number[]): ProtoWriter {
  const t = new ProtoWriter().varint(1, DT_STRING).message(2, shapeProto(shape));
  for (const v of values) t.string(8, v);
  return t;
}

/** TensorShapeProto (tensor_shape.proto): repeated Dim dim = 2, Dim.size = 1. A scalar has no dims. */
function shapeProto(shape: number[]): ProtoWriter {
  const s = new ProtoWriter();
  for (const d of shape) {
    const dim = new ProtoWriter();
    if (d !== 0) dim.varint(1, d);
    s.message(2, dim);
  }
  return s;
}

/** Summary.Image: height = 1, width = 2, colorspace = 3 (1 gray, 2 gray+alpha, 3 RGB, 4 RGBA), encoded_image_string = 4. */
export function imageProto(height: number, width: number, colorspace: number, encoded: Uint8Array): ProtoWriter {
  return new ProtoWriter().varint(1, height).varint(2, width).varint(3, colorspace).bytes(4, encoded);
}

/** SummaryMetadata: plugin_data = 1 {plugin_name = 1, content = 2}, data_class = 4. */
export function metadataProto(pluginName: string, content: Uint8Array = new Uint8Array(0), dataClass = 0): ProtoWriter {
  const pd = new ProtoWriter().string(1, pluginName);
  if (content.length > 0) pd.bytes(2, content);
  const m = new ProtoWriter().message(1, pd);
  if (dataClass !== 0) m.varint(4, dataClass);
  return m;
}

/** One Summary.Value: tag = 1, then one of simple_value = 2, image = 4, histo = 5, tensor = 8; metadata = 9. */
export interface SummaryValue {
  tag: string;
  simpleValue?: number;
  image?: ProtoWriter;
  histo?: ProtoWriter;
  tensor?: ProtoWriter;
  metadata?: ProtoWriter;
}

/** A Summary (repeated Value value = 1). */
export function summaryProto(values: SummaryValue[]): ProtoWriter {
  const s = new ProtoWriter();
  for (const v of values) {
    const p = new ProtoWriter().string(1, v.tag);
    if (v.simpleValue !== undefined) p.float(2, v.simpleValue);
    if (v.image) p.message(4, v.image);
    if (v.histo) p.message(5, v.histo);
    if (v.tensor) p.message(8, v.tensor);
    if (v.metadata) p.message(9, v.metadata);
    s.message(1, p);
  }
  return s;
}

/** A hyperparameter value: TensorBoard's HPARAMS tab shows numbers, strings and booleans. */
export type HParamValue = number | string | boolean;

/** google.protobuf.Value: number_value = 2, string_value = 3, bool_value = 4 (oneof: always written). */
function valueProto(v: HParamValue): ProtoWriter {
  const p = new ProtoWriter();
  if (typeof v === "number") p.double(2, v);
  else if (typeof v === "string") p.string(3, v);
  else p.varint(4, v);
  return p;
}

/** hparams api.proto DataType: STRING = 1, BOOL = 2, FLOAT64 = 3. */
function hparamType(v: HParamValue): number {
  return typeof v === "string" ? 1 : typeof v === "boolean" ? 2 : 3;
}

/**
 * Experiment (api.proto): hparam_infos = 4 {name = 1, type = 4, domain_discrete = 5 (ListValue, values = 1)},
 * metric_infos = 5 {name = 1 (MetricName: group = 1, tag = 2)}; time_created_secs = 3.
 */
export function experimentProto(hparams: Record<string, HParamValue>, metricTags: string[], domains: Record<string, HParamValue[]>, timeCreated: number): ProtoWriter {
  const e = new ProtoWriter();
  if (timeCreated !== 0) e.double(3, timeCreated);
  for (const [name, v] of Object.entries(hparams)) {
    const info = new ProtoWriter().string(1, name).varint(4, hparamType(v));
    const domain = domains[name];
    if (domain && domain.length > 0) {
      const list = new ProtoWriter();
      for (const d of domain) list.message(1, valueProto(d));
      info.message(5, list);
    }
    e.message(4, info);
  }
  for (const tag of metricTags) e.message(5, new ProtoWriter().message(1, new ProtoWriter().string(2, tag)));
  return e;
}

/** SessionStartInfo (plugin_data.proto): map<string, Value> hparams = 1 (entries: key = 1, value = 2), group_name = 4, start_time_secs = 5. */
export function sessionStartProto(hparams: Record<string, HParamValue>, startTime: number, groupName = ""): ProtoWriter {
  const s = new ProtoWriter();
  for (const [k, v] of Object.entries(hparams)) s.message(1, new ProtoWriter().string(1, k).message(2, valueProto(v)));
  if (groupName) s.string(4, groupName);
  if (startTime !== 0) s.double(5, startTime);
  return s;
}

/** SessionEndInfo: status = 1 (api.proto Status: SUCCESS = 1, FAILURE = 2, RUNNING = 3), end_time_secs = 2. */
export function sessionEndProto(status: number, endTime: number): ProtoWriter {
  const s = new ProtoWriter();
  if (status !== 0) s.varint(1, status);
  if (endTime !== 0) s.double(2, endTime);
  return s;
}

/** HParamsPluginData: version = 1 (0), oneof {experiment = 2, session_start_info = 3, session_end_info = 4}. */
export function hparamsPluginData(field: 2 | 3 | 4, m: ProtoWriter): Uint8Array {
  return new ProtoWriter().message(field, m).finish();
}
