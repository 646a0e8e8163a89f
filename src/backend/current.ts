// Which backend runs kernels now: INGOT_BACKEND, else `cpu` when the native addon loaded, else `ref`.
import { BackendError, ValueError } from "../tensor/index.js";
import { getBackendInfo, registeredBackends } from "./registry.js";

let current: string | null = null;
const loaders = new Map<string, () => boolean>();

/** A backend that must load something first (the native addon) registers a loader here. */
export function registerBackendLoader(name: string, load: () => boolean): void {
  loaders.set(name, load);
}

function tryLoad(name: string): boolean {
  if (getBackendInfo(name)) return true;
  const l = loaders.get(name);
  return l ? l() : false;
}

/** The name of the backend that runs kernels now. */
export function getBackend(): string {
  if (current) return current;
  const env = process.env.INGOT_BACKEND?.trim();
  if (env) {
    if (!tryLoad(env))
      throw new BackendError(
        `INGOT_BACKEND=${env}: that backend is not available (have ${registeredBackends().join(", ")}); unset INGOT_BACKEND or build it (npm rebuild ingot)`,
      );
    current = env;
  } else current = tryLoad("cpu") ? "cpu" : "ref";
  return current;
}

/** Chooses the backend for all following ops, like `tf.setBackend`. */
export function setBackend(name: string): void {
  if (!tryLoad(name))
    throw new ValueError(`setBackend: unknown or unavailable backend '${name}'; available: ${registeredBackends().join(", ")}`);
  current = name;
}

/** Runs fn with another backend selected, then restores the previous one. */
export function withBackend<T>(name: string, fn: () => T): T {
  const prev = getBackend();
  setBackend(name);
  try {
    return fn();
  } finally {
    current = prev;
  }
}
