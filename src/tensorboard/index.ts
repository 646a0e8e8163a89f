// ingot.tensorboard: TensorBoard event files (SummaryWriter, as PyTorch's), their record format and
// checksums, and an independent reader for checking what was written.
export { SummaryWriter, type SummaryWriterOptions, type HparamsOptions } from "./summary-writer.js";
export { RecordWriter, frameRecord } from "./record-writer.js";
export { crc32c, crc32, maskCrc, unmaskCrc, maskedCrc32c } from "./crc32c.js";
export { makeHistogram, tensorflowEdges } from "./histogram.js";
export { encodePng, imagePixels, type DataFormats } from "./png.js";
export { FILE_VERSION, type HistogramData, type HParamValue } from "./messages.js";
export { atExit, runExitHooks, type ExitReason } from "./exit-hooks.js";
export {
  readRecords,
  readEventFile,
  readScalars,
  eventFiles,
  decodeEvent,
  decodeFields,
  type FieldValue,
  type ReadEvent,
  type ReadValue,
  type ReadHistogram,
} from "./reader.js";
