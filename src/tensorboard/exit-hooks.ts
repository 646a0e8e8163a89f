// Work that must happen when the process ends: normal exit, process.exit(), or an uncaught error.
// Used by the event writers (flush) and the run store (mark a run that did not finish). Hooks must
// be synchronous.
//
// NOTE: no SIGINT/SIGTERM listeners on purpose. A JavaScript signal listener only runs when the event
// loop is free, so a training loop that never yields could then not be stopped with Ctrl-C at all.
// A process ended by a signal keeps the events written so far (at most maxQueue − 1 are lost), and
// the run store marks its run failed when it next reads it (its pid is gone).

/** Why the process is ending ('exit' with its code; 'signal' for hooks called by a program's own handler). */
export type ExitReason = { kind: "exit"; code: number } | { kind: "signal"; signal: NodeJS.Signals };

type Hook = (reason: ExitReason) => void;

const hooks = new Set<Hook>();
let installed = false;

/** Runs every pending hook once (a program's own signal handler may call it before exiting). */
export function runExitHooks(reason: ExitReason): void {
  for (const h of [...hooks]) {
    hooks.delete(h);
    try {
      h(reason);
    } catch {
      // A failing hook must not stop the others (nor turn an exit into a crash).
    }
  }
}

/** Runs `hook` once when the process exits; returns a function that cancels it. */
export function atExit(hook: Hook): () => void {
  if (!installed) {
    installed = true;
    process.on("exit", (code) => runExitHooks({ kind: "exit", code: code ?? 0 }));
  }
  hooks.add(hook);
  return () => {
    hooks.delete(hook);
  };
}
