// Prints the layer table of an image in a registry reachable over plain HTTP (our 127.0.0.1 registry):
//   node scripts/layer-table.ts 127.0.0.1:5000/exampleos:demo
const ACCEPT = [
  'application/vnd.oci.image.index.v1+json', 'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json', 'application/vnd.docker.distribution.manifest.list.v2+json',
].join(', ');

interface Descriptor { mediaType: string; digest: string; size: number; platform?: { os: string; architecture: string } }

async function get(url: string, accept = ACCEPT): Promise<Response> {
  const r = await fetch(url, { headers: { accept } });
  if (!r.ok) throw new Error(`GET ${url}: ${r.status} ${await r.text()}`);
  return r;
}

export async function layerTable(ref: string): Promise<string> {
  const slash = ref.indexOf('/');
  const host = ref.slice(0, slash);
  let repo = ref.slice(slash + 1);
  let tag = 'latest';
  const at = repo.indexOf('@');
  const colon = repo.lastIndexOf(':');
  if (at >= 0) [repo, tag] = [repo.slice(0, at), repo.slice(at + 1)];
  else if (colon >= 0) [repo, tag] = [repo.slice(0, colon), repo.slice(colon + 1)];
  const base = `http://${host}/v2/${repo}`;
  let res = await get(`${base}/manifests/${tag}`);
  let digest = res.headers.get('docker-content-digest') ?? '';
  let m = (await res.json()) as { manifests?: Descriptor[]; layers?: Descriptor[]; config?: Descriptor };
  if (m.manifests) {
    const d = m.manifests.find((x) => x.platform?.os === 'linux') ?? m.manifests[0];
    res = await get(`${base}/manifests/${d.digest}`);
    digest = d.digest;
    m = (await res.json()) as typeof m;
  }
  const config = (await (await get(`${base}/blobs/${m.config!.digest}`, '*/*')).json()) as {
    history?: { created_by?: string; empty_layer?: boolean }[];
    config?: { Labels?: Record<string, string> };
  };
  const hist = (config.history ?? []).filter((h) => !h.empty_layer);
  const layers = m.layers ?? [];
  const total = layers.reduce((s, l) => s + l.size, 0);
  const lines = [`${ref}  manifest ${digest}`, `${layers.length} layers, ${fmt(total)} compressed`, ''];
  lines.push(`${'#'.padStart(3)}  ${'size'.padStart(9)}  ${'digest'.padEnd(19)}  contents`);
  layers.forEach((l, i) => {
    const what = (hist[i]?.created_by ?? '').replace(/^compose-frontend layer \d+\/\d+: /, '');
    lines.push(`${String(i + 1).padStart(3)}  ${fmt(l.size).padStart(9)}  ${l.digest.slice(0, 19)}  ${what.slice(0, 90)}`);
  });
  const labels = config.config?.Labels ?? {};
  lines.push('', `labels: ${Object.keys(labels).filter((k) => !k.startsWith('dev.compose-frontend.')).map((k) => `${k}=${labels[k]}`).join(' ')}`);
  return lines.join('\n');
}

function fmt(n: number): string {
  const u = ['B', 'KiB', 'MiB', 'GiB'];
  let i = 0;
  while (n >= 1024 && i < u.length - 1) [n, i] = [n / 1024, i + 1];
  return `${n.toFixed(i ? 1 : 0)} ${u[i]}`;
}

if (import.meta.main) {
  const ref = process.argv[2];
  if (!ref) {
    console.error('usage: node scripts/layer-table.ts HOST/REPO[:TAG|@DIGEST]');
    process.exit(2);
  }
  console.log(await layerTable(ref));
}
