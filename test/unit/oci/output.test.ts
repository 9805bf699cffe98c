// --output parsing and the previous-plan readers.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseOutputRef, describeOutput } from '../../../src/oci/output.ts';
import { planOfImage } from '../../../src/oci/previous.ts';

test('output references', () => {
  assert.deepEqual(parseOutputRef('oci:/tmp/x'), { transport: 'oci', path: '/tmp/x' });
  assert.deepEqual(parseOutputRef('oci:out:v1.2'), { transport: 'oci', path: 'out', tag: 'v1.2' });
  assert.deepEqual(parseOutputRef('oci-archive:/a/b.tar:latest'), { transport: 'oci-archive', path: '/a/b.tar', tag: 'latest' });
  assert.deepEqual(parseOutputRef('docker://quay.io/x/y:1'), { transport: 'docker', ref: { registry: 'quay.io', repository: 'x/y', tag: '1' } });
  assert.equal(describeOutput(parseOutputRef('docker://localhost:5000/os')), 'docker://localhost:5000/os:latest');
  assert.equal(describeOutput(parseOutputRef('oci:d:t')), 'oci:d:t');
});

test('bad output references name the flag and say what is wrong', () => {
  const cases: [string, string][] = [
    ['out.oci', "--output 'out.oci': unsupported destination (want oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker://REGISTRY/REPO[:TAG])"],
    ['containers-storage:x', "--output 'containers-storage:x': unsupported destination (want oci:DIR[:TAG], oci-archive:FILE[:TAG] or docker://REGISTRY/REPO[:TAG])"],
    ['oci:', "--output 'oci:': the path is empty"],
    ['oci:dir:bad tag', "--output 'oci:dir:bad tag': invalid tag 'bad tag'"],
    ['docker://Quay.io/UPPER', '--output \'docker://Quay.io/UPPER\': invalid image reference "docker://Quay.io/UPPER": repository name "UPPER" must be lowercase'],
  ];
  for (const [text, message] of cases) assert.throws(() => parseOutputRef(text), { message }, text);
});

test('previous plan: our label first, then ostree.components annotations, then chunkah history', () => {
  const label = JSON.stringify({ v: 1, l: [['deb:bash', ['deb:bash']], ['rest:etc', ['rest:etc']]] });
  assert.deepEqual(planOfImage({ labels: { 'dev.compose-frontend.plan': label }, layers: [], history: [] }, 'x').layers,
    [{ name: 'deb:bash', components: ['deb:bash'] }, { name: 'rest:etc', components: ['rest:etc'] }]);
  const ostree = planOfImage({
    labels: {}, history: [],
    layers: [{}, { annotations: { 'ostree.components': 'bash,glibc' } }, { annotations: { 'ostree.components': '' } }],
  }, 'x');
  assert.deepEqual(ostree.layers.map((l) => l.components), [['rpm:bash', 'rpm:glibc']]);
  // What our CLI writes: RPMs by name, other components by id (':' never occurs in an RPM name).
  const ours = planOfImage({
    labels: {}, history: [],
    layers: [{}, { annotations: { 'ostree.components': 'bash,deb:zlib,rest:etc' } }, { annotations: { 'ostree.components': 'rpmostree-unpackaged-content' } }],
  }, 'x');
  assert.deepEqual(ours.layers.map((l) => l.components), [['deb:zlib', 'rest:etc', 'rpm:bash']]);
  assert.throws(() => planOfImage({ labels: {}, layers: [{}, {}], history: [] }, "--previous-build 'oci:p'"),
    { message: "--previous-build 'oci:p': has no layer plan (no 'dev.compose-frontend.plan' label, no 'ostree.components' layer annotations, no chunkah history)" });
  assert.throws(() => planOfImage({ labels: { 'dev.compose-frontend.plan': '{' }, layers: [], history: [] }, 'P'), /^Error: P: plan label: not JSON/);
});
