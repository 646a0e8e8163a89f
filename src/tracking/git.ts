// The git commit a run was started from, read from the .git folder (HEAD, loose refs, packed-refs,
// worktrees' gitdir/commondir) without spawning git, so it costs nothing and works without git installed.
import { existsSync, readFileSync, statSync } from "node:fs";
import { dirname, isAbsolute, join, resolve } from "node:path";

export interface GitInfo {
  /** The 40-hex commit HEAD points to. */
  commit: string;
  /** The branch name, or null for a detached HEAD. */
  branch: string | null;
  /** The repository's top folder. */
  root: string;
}

/** The .git folder of the repository holding `dir` (following a `.git` file's gitdir, as worktrees and submodules use). */
function findGitDir(dir: string): { gitDir: string; root: string } | null {
  for (let d = resolve(dir); ; d = dirname(d)) {
    const g = join(d, ".git");
    if (existsSync(g)) {
      if (statSync(g).isDirectory()) return { gitDir: g, root: d };
      const m = /^gitdir:\s*(.+)$/m.exec(readFileSync(g, "utf8"));
      if (m) return { gitDir: isAbsolute(m[1].trim()) ? m[1].trim() : resolve(d, m[1].trim()), root: d };
    }
    if (dirname(d) === d) return null;
  }
}

function readRef(gitDir: string, commonDir: string, ref: string): string | null {
  for (const base of [gitDir, commonDir]) {
    const p = join(base, ref);
    if (existsSync(p)) return readFileSync(p, "utf8").trim();
  }
  const packed = join(commonDir, "packed-refs");
  if (existsSync(packed)) {
    for (const line of readFileSync(packed, "utf8").split("\n")) {
      const [sha, name] = line.trim().split(" ");
      if (name === ref && /^[0-9a-f]{40}$/.test(sha)) return sha;
    }
  }
  return null;
}

/** The commit and branch of the repository holding `dir` (default: the working folder), or null outside one. */
export function gitInfo(dir: string = process.cwd()): GitInfo | null {
  try {
    const found = findGitDir(dir);
    if (!found) return null;
    const { gitDir, root } = found;
    const cd = join(gitDir, "commondir");
    const commonDir = existsSync(cd) ? resolve(gitDir, readFileSync(cd, "utf8").trim()) : gitDir;
    let head = readFileSync(join(gitDir, "HEAD"), "utf8").trim();
    let branch: string | null = null;
    // Follow symbolic refs (HEAD → refs/heads/main); a few hops at most.
    for (let hops = 0; hops < 5 && head.startsWith("ref:"); hops++) {
      const ref = head.slice(4).trim();
      if (branch === null && ref.startsWith("refs/heads/")) branch = ref.slice("refs/heads/".length);
      const next = readRef(gitDir, commonDir, ref);
      if (next === null) return null; // a branch with no commit yet
      head = next;
    }
    return /^[0-9a-f]{40}$/.test(head) ? { commit: head, branch, root } : null;
  } catch {
    return null;
  }
}
