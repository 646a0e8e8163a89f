// Whether ops record themselves for backward. `noGrad(fn)` turns recording off inside fn.

let enabled = true;

export function isGradEnabled(): boolean {
  return enabled;
}

/** Runs fn without recording any op for autograd (PyTorch's `torch.no_grad()`). */
export function noGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = false;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Runs fn with recording on, even inside noGrad (PyTorch's `torch.enable_grad()`). */
export function enableGrad<T>(fn: () => T): T {
  const prev = enabled;
  enabled = true;
  try {
    return fn();
  } finally {
    enabled = prev;
  }
}

/** Turns recording on or off globally; prefer noGrad(fn). */
export function setGradEnabled(flag: boolean): void {
  enabled = flag;
}
