// Reads `--progress=plain` output (each line stamped with its arrival time) back into vertices: name,
// BuildKit's own duration ("DONE 1.2s"), cached or not, sub-steps ("exporting layers 4.3s done"), and
// when the vertex showed up and finished on the wall clock. Then splits a build into phases.

export interface TimedLine {
  /** ms since the build command started */
  t: number;
  text: string;
}

export interface Vertex {
  id: number;
  name: string;
  /** Arrival of the first and of the DONE/CACHED/ERROR line (ms since start). */
  startT: number;
  endT: number;
  /** BuildKit's duration of the vertex in ms (DONE x.ys), 0 when cached. */
  durMs: number;
  cached: boolean;
  error: boolean;
  /** Sub-steps that report a duration: "exporting layers" → ms. Repeated names keep the last. */
  steps: Record<string, number>;
  lines: string[];
}

export interface Progress {
  vertices: Vertex[];
  warnings: string[];
}

const VERTEX = /^#(\d+) (.*)$/;
const DONE = /^DONE (\d+(?:\.\d+)?)s$/;
const STEP = /^(.*?) (\d+(?:\.\d+)?)s done$/;

export function parseProgress(lines: TimedLine[]): Progress {
  const byId = new Map<number, Vertex>();
  const warnings: string[] = [];
  let inWarnings = false;
  for (const { t, text } of lines) {
    const line = text.replace(/\x1b\[[0-9;]*m/g, '');
    const m = VERTEX.exec(line);
    if (!m) {
      if (/warnings? found/.test(line)) inWarnings = true;
      else if (inWarnings && line.startsWith(' - ')) warnings.push(line.slice(3));
      continue;
    }
    const id = Number(m[1]);
    const rest = m[2];
    let v = byId.get(id);
    if (!v) {
      v = { id, name: rest, startT: t, endT: t, durMs: 0, cached: false, error: false, steps: {}, lines: [] };
      byId.set(id, v);
      continue;
    }
    v.lines.push(rest);
    const done = DONE.exec(rest);
    if (done) {
      // A vertex shown twice (e.g. an image pulled, then its layers extracted) adds up.
      v.durMs = Math.round(Number(done[1]) * 1000);
      v.endT = t;
    } else if (rest === 'CACHED') {
      v.cached = true;
      v.endT = t;
    } else if (rest.startsWith('ERROR')) {
      v.error = true;
      v.endT = t;
    } else {
      const step = STEP.exec(rest);
      if (step) v.steps[step[1]] = Math.round(Number(step[2]) * 1000);
    }
  }
  return { vertices: [...byId.values()].sort((a, b) => a.id - b.id), warnings };
}

/** Where the wall time of one build went. Durations in ms; `undefined` = that phase did not occur. */
export interface Phases {
  wallMs: number;
  /** Pulling the frontend image (docker-image:// vertex). */
  frontendImageMs?: number;
  /** Uploading the build context. */
  contextMs?: number;
  /** The exec scan vertex. */
  scanExecMs?: number;
  /** Layer FileOps (ours) or the COPY (single-layer): count, rebuilt (not cached), sum of durations, wall span. */
  copies: { count: number; rebuilt: number; sumMs: number; spanMs: number };
  mergeMs?: number;
  /** Image exporter: compressing/committing layers ("exporting layers"). */
  exportLayersMs?: number;
  /** Push: "pushing layers" (BuildKit) or the whole `pushing … with docker` vertex (Docker 26.1). */
  pushMs?: number;
  /** Whole exporter vertex (exporting to image) and Docker's separate push vertex. */
  exportVertexMs?: number;
  /** Wall time between the end of the scan (or context upload) and the first copy: planning, LLB, Solve. */
  frontendGapMs?: number;
  /** Wall time not inside any vertex: client/session setup, frontend start, gaps. */
  outsideMs: number;
}

const find = (vs: Vertex[], pred: (v: Vertex) => boolean): Vertex | undefined => vs.find(pred);

export function phases(p: Progress, wallMs: number): Phases {
  const vs = p.vertices;
  const image = vs.filter((v) => v.name.startsWith('docker-image://') && /compose-frontend/.test(v.name));
  const context = find(vs, (v) => v.name.startsWith('[context] load rootfs') || v.name === '[internal] load build context');
  const scan = find(vs, (v) => v.name.startsWith('[scan]'));
  const copies = vs.filter((v) => v.name.startsWith('[layer ') || /^\[\d+\/\d+\] COPY /.test(v.name));
  const merge = find(vs, (v) => v.name.startsWith('[layers] merge'));
  const exporter = find(vs, (v) => v.name === 'exporting to image');
  const dockerPush = find(vs, (v) => v.name.startsWith('pushing ') && v.name.endsWith(' with docker'));
  const first = copies.length ? Math.min(...copies.map((v) => v.startT)) : undefined;
  const last = copies.length ? Math.max(...copies.map((v) => v.endT)) : undefined;
  const before = scan ?? context;
  // Wall time covered by at least one vertex (union of [start, end] intervals).
  // A vertex began no later than BuildKit's own duration before its last line arrived.
  const spans = vs.map((v) => [Math.min(v.startT, v.endT - v.durMs), v.endT] as const);
  const sorted = [...spans].sort((a, b) => a[0] - b[0]);
  let covered = 0;
  let cur: [number, number] | undefined;
  for (const [s, e] of sorted) {
    if (!cur || s > cur[1]) {
      if (cur) covered += cur[1] - cur[0];
      cur = [s, e];
    } else cur[1] = Math.max(cur[1], e);
  }
  if (cur) covered += cur[1] - cur[0];
  return {
    wallMs,
    frontendImageMs: image.length ? image.reduce((n, v) => n + v.durMs, 0) : undefined,
    contextMs: context?.durMs,
    scanExecMs: scan?.durMs,
    copies: {
      count: copies.length,
      rebuilt: copies.filter((v) => !v.cached).length,
      sumMs: copies.reduce((n, v) => n + v.durMs, 0),
      spanMs: first !== undefined && last !== undefined ? last - first : 0,
    },
    mergeMs: merge?.durMs,
    exportLayersMs: exporter?.steps['exporting layers'],
    pushMs: dockerPush ? dockerPush.durMs : exporter?.steps['pushing layers'],
    exportVertexMs: exporter ? exporter.durMs + (dockerPush?.durMs ?? 0) : undefined,
    frontendGapMs: before && first !== undefined && copies.some((v) => v.name.startsWith('[layer ')) ? Math.max(0, first - before.endT) : undefined,
    outsideMs: Math.max(0, Math.round(wallMs - covered)),
  };
}

/** The `compose-frontend stats {…}` warning, parsed. */
export function frontendStats(p: Progress): Record<string, number | boolean> | undefined {
  for (const w of p.warnings) {
    const m = /compose-frontend stats (\{.*\})/.exec(w);
    if (m) return JSON.parse(m[1]) as Record<string, number | boolean>;
  }
  return undefined;
}
