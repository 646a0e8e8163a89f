// ingot.profiler: records op calls, autograd nodes and optimizer steps with self time, FLOPs and
// bytes; prints torch.profiler-style tables and writes Chrome trace JSON (Perfetto).
export { Profiler, profile, recordFunction, activeProfiler, type Profile, type ProfileEvent, type ProfilerOptions, type EventCategory } from "./profiler.js";
export { keyAverages, formatKeyAverages, type KeyAverage, type KeyAveragesOptions, type TableOptions, type SortKey } from "./table.js";
export { chromeTrace, type ChromeTrace, type TraceEvent } from "./trace.js";
export { opFlops } from "./flops.js";
export { ProfilerCallback, type ProfilerCallbackOptions } from "./callback.js";
