// Lockfile parsing/merging and automatic-version-prefix.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { lockedSpec, mergeLockfiles, parseLockfile } from '../../../src/compose/lockfile.ts';
import { formatDate, nextVersion } from '../../../src/compose/version.ts';

const lf = (path: string, text: string) => ({ path, data: new TextEncoder().encode(text) });

describe('lockfiles', () => {
  test('evra, evr, digest; later files win by name', () => {
    const merged = mergeLockfiles([
      lf('manifest-lock.x86_64.json', JSON.stringify({ packages: { b: { evra: '1:2.0-3.fc40.x86_64', digest: 'sha256:ab12' }, a: { evra: '1.0-1.noarch', metadata: { sourcerpm: 'a' } } }, metadata: { generated: '2024-01-01T00:00:00Z' } })),
      lf('manifest-lock.overrides.yaml', 'packages:\n  b:\n    evr: 2.1-1\n    metadata: {type: pin}\n'),
    ]);
    assert.deepEqual(merged, [{ name: 'a', evr: '1.0-1', arch: 'noarch' }, { name: 'b', evr: '2.1-1' }]);
    assert.equal(lockedSpec(merged[0]!), 'a-1.0-1.noarch');
    assert.deepEqual(parseLockfile(lf('l.json', '{"packages":{"b":{"evra":"1:2.0-3.fc40.x86_64","digest":"sha256:ab12"}}}')), [{ name: 'b', evr: '1:2.0-3.fc40', arch: 'x86_64', digest: 'sha256:ab12' }]);
  });

  test('errors name the file and the problem', () => {
    assert.throws(() => parseLockfile(lf('l.json', '{}')), /^TreefileError: l\.json: Key 'packages' not found in l\.json$|l\.json: Key 'packages' not found in l\.json/);
    assert.throws(() => parseLockfile(lf('l.json', '{"packages":{},"extra":1}')), /l\.json: Unknown fields: extra/);
    assert.throws(() => parseLockfile(lf('l.json', '{"packages":{"a":{"evra":"1.0"}}}')), /l\.json: package a has malformed evra: 1\.0/);
    assert.throws(() => parseLockfile(lf('l.json', '{"packages":{"a":{"evr":"1-1","evra":"1-1.x"}}}')), /packages\.a: needs exactly one of `evra` or `evr`/);
    assert.throws(() => parseLockfile(lf('l.yaml', 'packages:\n  a: {evr: 1-1, arch: x}\n')), /l\.yaml: packages\.a: Unknown fields: arch/);
    assert.throws(() => parseLockfile(lf('l.json', '{"packages":')), /l\.json: cannot parse lockfile/);
  });
});

describe('automatic-version-prefix', () => {
  const t = new Date(Date.UTC(2024, 2, 5, 7, 8, 9));
  test('upstream cases', () => {
    for (const prev of [undefined, '', 'xyz', '9', '11']) assert.equal(nextVersion('10', '', prev, t), '10');
    const cases: [string, string, string][] = [
      ['10', '10', '10.1'], ['10.1', '10.1', '10.1.1'], ['10', '10.0', '10.1'], ['10', '10.3', '10.4'], ['10', '10.1.5', '10.2'],
      ['10.1', '10.1.1.5', '10.1.2'], ['10', '10001', '10'], ['10', '101.1', '10'], ['10.1', '10.', '10.1'], ['10.1', '10.12', '10.1'],
      ['10.1', '10.1.x', '10.1.1'], ['10.1', '10.1.2x', '10.1.3'],
    ];
    for (const [p, prev, want] of cases) assert.equal(nextVersion(p, '.', prev, t), want, `${p} after ${prev}`);
    assert.equal(nextVersion('10', '-', '10-1', t), '10-2');
    assert.equal(nextVersion('10.1', '-', '10.1-5', t), '10.1-6');
  });

  test('date tags', () => {
    assert.equal(nextVersion('10.<date:%Y%m%d>', '', '10.20001010', t), '10.20240305.0');
    assert.equal(nextVersion('10.<date:%Y%m%d>', '', '10.20001010.5', t), '10.20240305.0');
    assert.equal(nextVersion('10.<date:%Y%m%d>', '', '10.20240305.1', t), '10.20240305.2');
    assert.equal(nextVersion('10.<date:%Y%m%d>', '', undefined, t), '10.20240305.0');
    assert.equal(nextVersion('10.<date:%Y%m%d>.0', '', '10.20240305', t), '10.20240305.0.0');
    assert.equal(nextVersion('10.<date:%Y%m%d>.0', '', '10.20240305.0', t), '10.20240305.0.0');
    assert.equal(formatDate('%Y-%m-%d %H:%M:%S %j %%', t), '2024-03-05 07:08:09 065 %');
    assert.throws(() => formatDate('%Q', t), /unsupported date format %Q/);
  });
});
