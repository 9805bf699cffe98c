import { loadTreefile } from './src/compose/treefile/index.ts';
const r = await loadTreefile('manifest.yaml', { contextDir: '/work/shared/fixtures/treefiles/fedora-coreos-config', basearch: 'x86_64' });
console.log(r.files);
console.log(r.postprocessOrigins);
const { packages, postprocess, ...rest } = r.treefile;
console.log(JSON.stringify(rest, null, 1).slice(0, 4000));
console.log(packages?.length, r.warnings, r.externals.passwd?.path, r.externals.group?.data.length);
