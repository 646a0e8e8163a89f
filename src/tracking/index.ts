// ingot.tracking: the run store (SQLite at ~/.ingot/runs.db, INGOT_HOME moves it) that records every
// run's config, seed, git commit, dataset checksum, metrics, artefacts, model folder and lineage.
export { RunStore, ingotHome, defaultRunsDb } from "./run-store.js";
export { ActiveRun } from "./run.js";
export { TrackingCallback, type TrackingCallbackOptions } from "./callback.js";
export { gitInfo, type GitInfo } from "./git.js";
export { datasetChecksum, jsonChecksum, sha256File, type HashCache } from "./checksum.js";
export { TrackingError, type Database, type Statement } from "./sqlite.js";
export type { RunRecord, RunStatus, MetricPoint, Artifact, StartRunOptions, ListRunsOptions, Comparison } from "./types.js";
export { TrainingObserver, type ObserveOptions, type TrainingOutcome } from "./training.js";
