// Update simulation for the packer: synthetic release series built on the real Fedora CoreOS
// component population (sizes, changelog frequencies), planned by our packer (fresh, sticky to the
// previous plan, sticky with fingerprints) and by a model of chunkah's packing, scored by the bytes a
// client downloads per update (the layers whose content changed) against the component floor (the
// size of every changed or added component) and a single layer.
//
//   node bench/update-sim.ts [--seeds N] [--releases N] [--max-layers K] [--group srpm|binary]
//                            [--scenario NAME] [--verbose] [--perf] [--tuning '{"binFraction":0.2}']
// FCOS_CONTENTMETA overrides the fixture path (default ../shared/fixtures/upstream/bootc/…).
import { readFileSync } from 'node:fs';
import { gunzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';
import { parseArgs } from 'node:util';
import { componentFingerprints } from '../src/chunking/fingerprint.ts';
import { makePackPlanner } from '../src/chunking/pack.ts';
import { DEFAULT_TUNING, type PackTuning } from '../src/chunking/stability.ts';
import type { PreviousPlanDetail } from '../src/chunking/sticky.ts';
import type { Component, LayerPlan, PlanInput } from '../src/chunking/types.ts';
import type { FsEntry } from '../src/rootfs/types.ts';

const DAY = 86400;
const T0 = 1_700_000_000;

// ---------- population ----------
interface Meta {
  identifier: string;
  name: string;
  srcid: string;
  change_frequency: number;
  size: number;
}

interface SimComponent {
  id: string;
  group: string;
  size: number;
  version: number;
  /** Changelog-style history (Unix seconds), what the packers see. */
  history: number[];
  /** True yearly change rate driving the simulation (Infinity = every release). */
  trueRate: number;
  always: boolean;
  changedLast: boolean;
}

function srpmName(srcid: string): string {
  const base = srcid.replace(/\.src\.rpm$/, '');
  const parts = base.split('-');
  return parts.length > 2 ? parts.slice(0, -2).join('-') : base;
}

class Rng {
  s: number;
  constructor(seed: number) {
    this.s = seed >>> 0 || 1;
  }
  next(): number {
    // mulberry32
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  normal(): number {
    const u = Math.max(this.next(), 1e-12);
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.next());
  }
  poisson(l: number): number {
    let n = 0;
    let p = Math.exp(-l);
    let c = p;
    const u = this.next();
    while (u > c && n < 10000) {
      n++;
      p *= l / n;
      c += p;
    }
    return n;
  }
}

export interface Scenario {
  name: string;
  intervalDays: number;
  releases: number;
  /** Scale from changelog frequency to true change rate (changelogs overcount stable-branch updates). */
  alpha: number;
  /** Log-normal noise on the true rate (sigma). */
  noise: number;
  /** Chance a component that just changed changes again at the next release. */
  burst: number;
  addPerRelease: number;
  removePerRelease: number;
  /** Groups that never change (e.g. a held kernel). */
  held?: RegExp;
}

export const SCENARIOS: Scenario[] = [
  { name: 'biweekly', intervalDays: 14, releases: 12, alpha: 0.5, noise: 0.6, burst: 0.15, addPerRelease: 0.5, removePerRelease: 0.3 },
  { name: 'weekly', intervalDays: 7, releases: 16, alpha: 0.5, noise: 0.6, burst: 0.15, addPerRelease: 0.3, removePerRelease: 0.2 },
  { name: 'daily', intervalDays: 1, releases: 30, alpha: 0.5, noise: 0.6, burst: 0.1, addPerRelease: 0.1, removePerRelease: 0.05 },
  { name: 'userland-only', intervalDays: 14, releases: 12, alpha: 0.5, noise: 0.6, burst: 0.15, addPerRelease: 0.5, removePerRelease: 0.3, held: /^(rpm:kernel|synthetic:initramfs)/ },
  { name: 'monthly', intervalDays: 30, releases: 8, alpha: 0.5, noise: 0.6, burst: 0.15, addPerRelease: 1, removePerRelease: 0.5 },
];

export function loadMeta(): Meta[] {
  const here = dirname(fileURLToPath(import.meta.url));
  const path = process.env.FCOS_CONTENTMETA ?? join(here, '..', '..', 'shared', 'fixtures', 'upstream', 'bootc', 'fedora-coreos-contentmeta.json.gz');
  return JSON.parse(gunzipSync(readFileSync(path)).toString('utf8')) as Meta[];
}

function population(meta: Meta[], group: 'srpm' | 'binary', sc: Scenario, rng: Rng): SimComponent[] {
  const out = new Map<string, SimComponent>();
  const groupRate = new Map<string, number>();
  for (const m of meta) {
    const synthetic = !m.srcid.endsWith('.src.rpm');
    const g = synthetic ? `synthetic:${m.name}` : `rpm:${srpmName(m.srcid)}`;
    const id = group === 'srpm' || synthetic ? g : `rpm:${m.name}`;
    const always = m.change_frequency >= 4294967295;
    const f = always ? Infinity : m.change_frequency;
    const c = out.get(id);
    if (c) {
      c.size += m.size;
      continue;
    }
    // one true rate per source package: its binaries change together
    if (!groupRate.has(g)) groupRate.set(g, always ? Infinity : sc.alpha * f * Math.exp(sc.noise * rng.normal()));
    const history: number[] = [];
    if (!always) {
      const n = rng.poisson(f);
      for (let i = 0; i < n; i++) history.push(T0 - Math.floor(rng.next() * 365 * DAY));
      if (n === 0) history.push(T0 - Math.floor((365 + rng.next() * 1000) * DAY));
      history.sort((a, b) => a - b);
    }
    out.set(id, { id, group: g, size: m.size, version: 0, history, trueRate: groupRate.get(g)!, always, changedLast: false });
  }
  return [...out.values()];
}

// ---------- release series ----------
interface Release {
  now: number;
  comps: SimComponent[];
  changed: Set<string>;
}

export function series(meta: Meta[], group: 'srpm' | 'binary', sc: Scenario, seed: number): Release[] {
  const rng = new Rng(seed);
  let comps = population(meta, group, sc, rng);
  const sizes = comps.filter((c) => !c.always).map((c) => c.size);
  const freqs = meta.filter((m) => m.change_frequency < 4294967295).map((m) => m.change_frequency);
  const out: Release[] = [{ now: T0, comps: comps.map((c) => ({ ...c, history: [...c.history] })), changed: new Set() }];
  let added = 0;
  for (let r = 1; r <= sc.releases; r++) {
    const now = T0 + r * sc.intervalDays * DAY;
    const changedGroups = new Set<string>();
    const seenGroups = new Map<string, boolean>();
    for (const c of comps) {
      if (seenGroups.has(c.group)) continue;
      let ch: boolean;
      if (sc.held?.test(c.group)) ch = false;
      else if (c.always) ch = true;
      else ch = rng.next() < 1 - Math.exp((-c.trueRate * sc.intervalDays) / 365) || (c.changedLast && rng.next() < sc.burst);
      seenGroups.set(c.group, ch);
      if (ch) changedGroups.add(c.group);
    }
    const changed = new Set<string>();
    for (const c of comps) {
      c.changedLast = changedGroups.has(c.group);
      if (!c.changedLast) continue;
      c.version++;
      c.size = Math.max(0, Math.round(c.size * (1 + 0.03 * rng.normal())));
      if (!c.always) c.history.push(now - Math.floor(rng.next() * sc.intervalDays * DAY));
      changed.add(c.id);
    }
    const removals = rng.poisson(sc.removePerRelease);
    for (let i = 0; i < removals; i++) {
      const cand = comps.filter((c) => !c.always);
      const victim = cand[Math.floor(rng.next() * cand.length)];
      comps = comps.filter((c) => c !== victim);
    }
    const adds = rng.poisson(sc.addPerRelease);
    for (let i = 0; i < adds; i++) {
      const id = `rpm:new-${seed}-${added++}`;
      const f = freqs[Math.floor(rng.next() * freqs.length)];
      comps.push({
        id,
        group: id,
        size: sizes[Math.floor(rng.next() * sizes.length)],
        version: 0,
        history: [now - Math.floor(rng.next() * 30 * DAY)],
        trueRate: sc.alpha * f * Math.exp(sc.noise * rng.normal()),
        always: false,
        changedLast: true,
      });
      changed.add(id);
    }
    out.push({ now, comps: comps.map((c) => ({ ...c, history: [...c.history] })), changed });
  }
  return out;
}

// ---------- planner inputs ----------
export function planInput(rel: Release, maxLayers: number): PlanInput {
  const entries: FsEntry[] = [{ path: 'c', kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 }];
  const components: Component[] = [];
  for (const c of rel.comps) {
    const dir = `c/${c.id}`;
    entries.push({ path: dir, kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
    entries.push({ path: `${dir}/data`, kind: 'file', mode: 0o644, uid: 0, gid: 0, size: c.size });
    const recent = c.history.filter((t) => t > rel.now - 365 * DAY && t <= rel.now);
    components.push({
      id: c.id,
      paths: [dir, `${dir}/data`],
      size: c.size,
      version: String(c.version),
      changeTime: c.always ? undefined : Math.max(...c.history.filter((t) => t <= rel.now)),
      changeFrequency: c.always ? Infinity : recent.length,
    });
  }
  return { entries, components, maxLayers, now: rel.now };
}

// ---------- scoring ----------
type Groups = string[][]; // component ids per layer

function groupsOf(plan: LayerPlan): Groups {
  return plan.layers.map((l) => l.components);
}

function score(prev: Groups, cur: Groups, prevRel: Release, rel: Release) {
  const verOld = new Map(prevRel.comps.map((c) => [c.id, c.version]));
  const ver = new Map(rel.comps.map((c) => [c.id, c.version]));
  const size = new Map(rel.comps.map((c) => [c.id, c.size]));
  const ident = (g: string[], v: Map<string, number>) => [...g].sort().map((id) => `${id}@${v.get(id)}`).join(',');
  const old = new Set(prev.map((g) => ident(g, verOld)));
  let download = 0;
  let reused = 0;
  for (const g of cur) {
    if (old.has(ident(g, ver))) reused++;
    else download += g.reduce((s, id) => s + size.get(id)!, 0);
  }
  const floor = [...rel.changed].reduce((s, id) => s + (size.get(id) ?? 0), 0);
  const total = rel.comps.reduce((s, c) => s + c.size, 0);
  return { download, reused, layers: cur.length, floor, total };
}

// ---------- planners under test ----------
type Strategy = (rels: Release[], maxLayers: number) => Groups[];

function ours(t: PackTuning, mode: 'fresh' | 'sticky' | 'sticky+fp'): Strategy {
  const planner = makePackPlanner(t);
  return (rels, maxLayers) => {
    const out: Groups[] = [];
    let previous: PreviousPlanDetail | undefined;
    for (const rel of rels) {
      const input = planInput(rel, maxLayers);
      const plan = planner({ ...input, previous: mode === 'fresh' ? undefined : previous });
      out.push(groupsOf(plan));
      previous = { layers: plan.layers.map((l) => ({ name: l.name, components: l.components })) };
      if (mode === 'sticky+fp') previous.fingerprints = Object.fromEntries(componentFingerprints(input.entries, input.components));
    }
    return out;
  };
}

const chunkah: Strategy = (rels, maxLayers) =>
  rels.map((rel) =>
    chunkahPacking(
      rel.comps.map((c) => ({ name: c.id.replace(/^(\w+):/, '$1/'), id: c.id, size: c.size, changelog: c.always ? undefined : c.history.filter((t) => t <= rel.now) })),
      maxLayers,
      rel.now,
    ),
  );

const single: Strategy = (rels) => rels.map((rel) => [rel.comps.map((c) => c.id)]);

// ---------- a model of chunkah's packing (coreos/chunkah src/packing.rs, as of 4c8abc3) ----------
// Re-expressed from its documented algorithm for this synthetic comparison only; the real tool is
// compared on real images by the update-size benchmark. Phase 1: components at or above
// median + 1.5·MAD of size get their own layer (at most 80 % of the budget); phase 2: the rest are
// split into three stability tiers at mean ± one standard deviation, the tiers get bins in
// proportion to their counts, and components go to bin FNV-1a(name) mod bins; empty bins steal the
// largest component of a shared bin. Stability = exp(−7 days · changes per day), from changelog
// entries of the last year counted once per day (0.99 with none; 0 without a changelog).
interface CkItem {
  name: string;
  id: string;
  size: number;
  changelog?: number[];
}

function ckStability(changelog: number[] | undefined, now: number): number {
  if (!changelog) return 0;
  const start = now - 365 * DAY;
  const inWindow = changelog.filter((t) => t >= start).sort((a, b) => a - b);
  if (inWindow.length === 0) return 0.99;
  let n = 0;
  let prevDay = -1;
  for (const t of inWindow) {
    const d = Math.floor(t / DAY);
    if (d !== prevDay) n++;
    prevDay = d;
  }
  const span = (now - inWindow[0]) / DAY;
  if (span < 1) return 0;
  return Math.exp((-n / span) * 7);
}

function fnv1a64(s: string): bigint {
  let h = 0xcbf29ce484222325n;
  for (const b of [...Buffer.from(s, 'utf8'), 0xff]) {
    h ^= BigInt(b);
    h = (h * 0x100000001b3n) & 0xffffffffffffffffn;
  }
  return h;
}

function median(v: number[]): number {
  if (!v.length) return 0;
  const s = [...v].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

export function chunkahPacking(input: CkItem[], maxLayers: number, now: number): string[][] {
  const items = [...input].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const stab = items.map((i) => ckStability(i.changelog, now));
  const idx = items.map((_, i) => i);
  if (items.length <= maxLayers) return idx.map((i) => [items[i].id]);
  const sizes = items.map((i) => i.size);
  const med = median(sizes);
  const rawMad = median(sizes.map((s) => Math.abs(s - med)));
  const mad = rawMad < med * 0.01 ? med : rawMad;
  const hi = med + 1.5 * mad;
  let high = idx.filter((i) => sizes[i] >= hi);
  const rest = idx.filter((i) => sizes[i] < hi);
  const cap = Math.floor((maxLayers - (rest.length ? 1 : 0)) * 0.8);
  if (high.length > cap) {
    high = [...high].sort((a, b) => sizes[b] - sizes[a]);
    rest.push(...high.slice(cap));
    high = high.slice(0, cap);
  }
  const groups: number[][] = high.map((i) => [i]);
  const budget = maxLayers - groups.length;
  if (rest.length <= budget) groups.push(...rest.map((i) => [i]));
  else {
    const st = rest.map((i) => stab[i]);
    const mean = st.reduce((a, b) => a + b, 0) / st.length;
    const sd = st.length < 2 ? 0 : Math.sqrt(st.reduce((a, b) => a + (b - mean) ** 2, 0) / st.length);
    const tiers: number[][] = [[], [], []];
    for (const i of rest) tiers[stab[i] >= mean + sd ? 0 : stab[i] <= mean - sd ? 2 : 1].push(i);
    const nonEmpty = tiers.filter((t) => t.length).length;
    const hashInto = (members: number[], bins: number) => {
      const b: number[][] = Array.from({ length: bins }, () => []);
      for (const i of members) b[Number(fnv1a64(items[i].name) % BigInt(bins))].push(i);
      for (let e = b.length - 1; e >= 0; e--) {
        if (b[e].length) continue;
        let best: [number, number] | undefined;
        b.forEach((bin, bi) => {
          if (bin.length < 2) return;
          bin.forEach((i, k) => {
            if (!best || sizes[i] >= sizes[b[best[0]][best[1]]]) best = [bi, k];
          });
        });
        if (!best) break;
        const [bi, k] = best;
        const moved = b[bi][k];
        b[bi][k] = b[bi][b[bi].length - 1];
        b[bi].pop();
        b[e].push(moved);
      }
      return b.filter((x) => x.length);
    };
    if (budget < nonEmpty) groups.push(...hashInto(rest, budget));
    else {
      const total = rest.length;
      let allocated = 0;
      let seen = 0;
      tiers.forEach((t) => {
        if (!t.length) return;
        seen++;
        let n: number;
        if (seen === nonEmpty) n = budget - allocated;
        else n = Math.min(Math.max(1, Math.round((t.length / total) * budget)), budget - allocated - (nonEmpty - seen));
        allocated += n;
        groups.push(...hashInto(t, n));
      });
    }
  }
  return groups.map((g) => g.map((i) => items[i].id));
}

// ---------- driver ----------
interface Totals {
  download: number;
  floor: number;
  single: number;
  reused: number;
  layers: number;
  pairs: number;
  worseThanChunkah: number;
  worstVsChunkah: number;
}

export function simulate(opts: { scenarios: Scenario[]; seeds: number; maxLayers: number; group: 'srpm' | 'binary'; tuning: PackTuning; verbose?: boolean }) {
  const meta = loadMeta();
  const strategies: [string, Strategy][] = [
    ['chunkah-model', chunkah],
    ['ours-fresh', ours(opts.tuning, 'fresh')],
    ['ours-sticky', ours(opts.tuning, 'sticky')],
    ['ours-sticky+fp', ours(opts.tuning, 'sticky+fp')],
    ['single-layer', single],
  ];
  const results: Record<string, Record<string, Totals>> = {};
  for (const sc of opts.scenarios) {
    const res: Record<string, Totals> = {};
    for (const [name] of strategies) res[name] = { download: 0, floor: 0, single: 0, reused: 0, layers: 0, pairs: 0, worseThanChunkah: 0, worstVsChunkah: 0 };
    for (let seed = 1; seed <= opts.seeds; seed++) {
      const rels = series(meta, opts.group, sc, seed * 7919 + sc.name.length);
      const plans = strategies.map(([name, s]) => [name, s(rels, opts.maxLayers)] as const);
      for (let r = 1; r < rels.length; r++) {
        const ck = score(plans[0][1][r - 1], plans[0][1][r], rels[r - 1], rels[r]);
        for (const [name, ps] of plans) {
          const s = score(ps[r - 1], ps[r], rels[r - 1], rels[r]);
          const t = res[name];
          t.download += s.download;
          t.floor += s.floor;
          t.single += s.total;
          t.reused += s.reused;
          t.layers += s.layers;
          t.pairs++;
          if (s.download > ck.download) {
            t.worseThanChunkah++;
            t.worstVsChunkah = Math.max(t.worstVsChunkah, s.download - ck.download);
          }
          if (opts.verbose) console.log(`${sc.name} seed ${seed} r${r} ${name}: ${mb(s.download)} floor ${mb(s.floor)} reused ${s.reused}/${s.layers}`);
        }
      }
    }
    results[sc.name] = res;
  }
  return results;
}

const mb = (b: number) => `${(b / 1048576).toFixed(1)} MiB`;

function report(results: ReturnType<typeof simulate>) {
  for (const [sc, res] of Object.entries(results)) {
    const ck = res['chunkah-model'];
    console.log(`\n== ${sc} (${ck.pairs} update pairs)`);
    console.log('strategy          avg download   ×floor  ×chunkah  ×single  layers reused  pairs > chunkah (worst)');
    for (const [name, t] of Object.entries(res)) {
      console.log(
        `${name.padEnd(16)} ${mb(t.download / t.pairs).padStart(13)}  ${(t.download / t.floor).toFixed(3).padStart(6)}  ${(t.download / ck.download).toFixed(3).padStart(8)}  ${(t.download / t.single).toFixed(3).padStart(7)}  ${((100 * t.reused) / t.layers).toFixed(1).padStart(12)} %  ${String(t.worseThanChunkah).padStart(5)} (${mb(t.worstVsChunkah)})`,
      );
    }
    console.log(`floor avg ${mb(ck.floor / ck.pairs)}, image avg ${mb(ck.single / ck.pairs)}`);
  }
}

function perf(tuning: PackTuning) {
  const planner = makePackPlanner(tuning);
  const entries: FsEntry[] = [];
  const components: Component[] = [];
  const perComp = 50;
  for (let c = 0; c < 2000; c++) {
    const paths: string[] = [`usr/share/p${c}`];
    entries.push({ path: `usr/share/p${c}`, kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
    for (let f = 0; f < perComp - 1; f++) {
      const p = `usr/share/p${c}/f${f}`;
      entries.push({ path: p, kind: 'file', mode: 0o644, uid: 0, gid: 0, size: 1000 + ((c * 7919 + f * 104729) % 100000) });
      paths.push(p);
    }
    components.push({ id: `rpm:p${c}`, paths, size: 0, changeFrequency: c % 40 });
  }
  entries.push({ path: 'usr', kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 }, { path: 'usr/share', kind: 'dir', mode: 0o755, uid: 0, gid: 0, size: 0 });
  const input: PlanInput = { entries, components, maxLayers: 64, now: T0 };
  let t0 = performance.now();
  const plan = planner(input);
  const fresh = performance.now() - t0;
  const fps = componentFingerprints(entries, components);
  const previous: PreviousPlanDetail = { layers: plan.layers.map((l) => ({ name: l.name, components: l.components })), fingerprints: Object.fromEntries(fps) };
  t0 = performance.now();
  planner({ ...input, previous });
  const sticky = performance.now() - t0;
  // worst case for the repack: every fingerprint differs, so all 2000 components are repacked
  const allDirty: PreviousPlanDetail = { ...previous, fingerprints: Object.fromEntries([...fps.keys()].map((k) => [k, '00000000'])) };
  t0 = performance.now();
  planner({ ...input, previous: allDirty });
  const repacked = performance.now() - t0;
  console.log(
    `\nplanning ${entries.length} entries / ${components.length} components (64 layers): fresh ${fresh.toFixed(0)} ms, ` +
      `with previous plan + fingerprints ${sticky.toFixed(0)} ms, everything changed (full repack) ${repacked.toFixed(0)} ms`,
  );
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      seeds: { type: 'string', default: '5' },
      'max-layers': { type: 'string', default: '64' },
      group: { type: 'string', default: 'srpm' },
      scenario: { type: 'string' },
      releases: { type: 'string' },
      verbose: { type: 'boolean', default: false },
      perf: { type: 'boolean', default: false },
      tuning: { type: 'string' },
    },
  });
  let scenarios = values.scenario ? SCENARIOS.filter((s) => s.name === values.scenario) : SCENARIOS;
  if (values.releases) scenarios = scenarios.map((s) => ({ ...s, releases: Number(values.releases) }));
  const tuning = { ...DEFAULT_TUNING, ...(values.tuning ? JSON.parse(values.tuning) : {}) };
  const results = simulate({ scenarios, seeds: Number(values.seeds), maxLayers: Number(values['max-layers']), group: values.group === 'binary' ? 'binary' : 'srpm', tuning, verbose: values.verbose });
  console.log(`max layers ${values['max-layers']}, components by ${values.group}, ${values.seeds} seeds, tuning ${JSON.stringify(tuning)}`);
  report(results);
  if (values.perf) perf(tuning);
}
