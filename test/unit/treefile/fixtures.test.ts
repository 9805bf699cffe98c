// Real-world treefiles from /work/shared/fixtures/treefiles, against the expected
// resolution written in that directory's README.

import assert from 'node:assert/strict';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { CENTOS, FCOS, copyFixture, load, loadError } from './helpers.ts';

describe('Fedora CoreOS closure (x86_64)', async () => {
  const r = await load(FCOS, 'manifest.yaml');
  const tf = r.treefile;

  it('visits the files in the README order', () => {
    assert.deepEqual(r.files, [
      'manifest.yaml',
      'manifests/fedora-coreos.yaml',
      'manifests/fedora-coreos-base.yaml',
      'manifests/kernel.yaml',
      'manifests/system-configuration.yaml',
      'manifests/ignition-and-ostree.yaml',
      'manifests/bootable-rpm-ostree.yaml',
      'manifests/file-transfer.yaml',
      'manifests/networking-tools.yaml',
      'manifests/user-experience.yaml',
      'manifests/shared-workarounds.yaml',
      'manifests/bootupd.yaml',
      'manifests/shared-el9.yaml',
      'manifests/shared-el10.yaml',
      'manifests/disable-zincati.yaml',
      'manifests/grub2-removals.yaml',
      'manifests/exclude-dnf.yaml',
      'manifests/wifi-firmwares.yaml',
    ]);
  });

  it('orders postprocess scripts: included first, later includes before earlier', () => {
    assert.deepEqual(
      r.postprocessOrigins.map((o) => `${o.file.replace('manifests/', '')}[${o.index}]`),
      [
        'bootupd.yaml[0]',
        'ignition-and-ostree.yaml[0]',
        'system-configuration.yaml[0]',
        'fedora-coreos-base.yaml[0]',
        'fedora-coreos-base.yaml[1]',
        'fedora-coreos-base.yaml[2]',
        'fedora-coreos-base.yaml[3]',
        'fedora-coreos.yaml[0]',
        'fedora-coreos.yaml[1]',
        'fedora-coreos.yaml[2]',
      ],
    );
    assert.equal(tf.postprocess!.length, 10);
    assert.match(tf.postprocess![0]!, /bootupctl backend generate-update-metadata/);
    assert.match(tf.postprocess![9]!, /list_broken_symlinks_folders/);
  });

  it('substitutes ${basearch} and ${stream} in ref, rojig and commit metadata', () => {
    assert.equal(tf.ref, 'fedora/x86_64/coreos/testing-devel');
    assert.equal(tf.rojig?.summary, 'Fedora CoreOS testing-devel');
    assert.deepEqual(tf['add-commit-metadata'], { 'fedora-coreos.stream': 'testing-devel' });
    assert.equal(tf['automatic-version-prefix'], '40.<date:%Y%m%d>.dev');
    assert.equal(tf['mutate-os-release'], '40');
  });

  it('has the effective scalars of the README', () => {
    assert.equal(tf.recommends, false);
    assert.equal(tf['boot-location'], 'modules');
    assert.equal(tf['tmp-is-dir'], true);
    assert.equal(tf['machineid-compat'], false);
    assert.equal(tf.rpmdb, 'sqlite');
    assert.equal(tf['default-target'], 'multi-user.target');
    assert.deepEqual(tf['container-cmd'], ['/usr/bin/bash']);
    assert.equal(tf.releasever, 40);
    assert.deepEqual(tf.variables, { basearch: 'x86_64', prod: false, releasever: 40, stream: 'testing-devel' });
  });

  it('has the repos of the README', () => {
    assert.deepEqual(tf.repos, ['fedora', 'fedora-updates']);
    assert.deepEqual(tf['lockfile-repos'], ['fedora-coreos-pool']);
  });

  it('splits, unions and sorts packages, with only x86_64 arch packages', () => {
    const p = tf.packages!;
    assert.deepEqual(p, [...p].sort());
    for (const name of ['nano', 'nano-default-editor', 'crun-wasm', 'wasmedge-rt', 'grub2-efi-x64', 'microcode_ctl', 'kernel', 'atheros-firmware']) {
      assert.ok(p.includes(name), name);
    }
    for (const name of ['nano nano-default-editor', 'grub2-efi-aa64', '/usr/sbin/zipl', 'librtas', 'dnf5']) {
      assert.ok(!p.includes(name), name);
    }
    assert.equal(p.length, 146);
  });

  it('merges arrays and sets across the closure', () => {
    assert.deepEqual(tf['etc-group-members'], ['wheel', 'sudo', 'systemd-journal', 'adm', 'docker']);
    assert.deepEqual(tf['exclude-packages']!.slice(0, 4), ['dnf', 'dnf5', 'kernel-debug-core', 'python']);
    assert.deepEqual(tf['ostree-layers']![0], 'overlay/16disable-zincati');
    assert.deepEqual(tf['ostree-layers']!.at(-1), 'overlay/15fcos');
    assert.deepEqual(tf['remove-from-packages']!.map((e) => e[0]), ['grub2-tools', 'systemd', 'systemd-udev', 'cracklib-dicts']);
    assert.deepEqual(tf['ignore-removed-users'], ['root']);
  });

  it('opens the check-passwd / check-groups files next to their treefile', async () => {
    assert.equal(r.externals.passwd?.path, 'manifests/passwd');
    assert.equal(r.externals.group?.path, 'manifests/group');
    assert.deepEqual(r.externals.passwd!.data, new Uint8Array(await readFile(join(FCOS, 'manifests/passwd'))));
  });

  it('takes the releasever >= 41 branches when the root says 41', async () => {
    const dir = await copyFixture(FCOS);
    const m = await readFile(join(dir, 'manifest.yaml'), 'utf8');
    await writeFile(join(dir, 'manifest.yaml'), m.replace('releasever: 40', 'releasever: 41'));
    const r41 = await load(dir, 'manifest.yaml');
    assert.deepEqual(r41.files.slice(14), [
      'manifests/disable-zincati.yaml',
      'manifests/grub2-removals.yaml',
      'manifests/include-dnf.yaml',
      'manifests/composefs.yaml',
      'manifests/selinux-workaround.yaml',
    ]);
    assert.ok(r41.treefile.packages!.includes('dnf5'));
    assert.equal(r41.postprocessOrigins[0]!.file, 'manifests/selinux-workaround.yaml');
  });

  it('uses the s390x arch packages and skips grub2-removals on s390x', async () => {
    const rs = await load(FCOS, 'manifest.yaml', { basearch: 's390x' });
    assert.ok(!rs.files.includes('manifests/grub2-removals.yaml'));
    assert.ok(rs.treefile.packages!.includes('/usr/sbin/zipl'));
    assert.ok(!rs.treefile.packages!.includes('irqbalance'));
    assert.equal(rs.treefile.ref, 'fedora/s390x/coreos/testing-devel');
  });

  it('fails at parse time when manifests/passwd is missing', async () => {
    const dir = await copyFixture(FCOS);
    await rm(join(dir, 'manifests/passwd'));
    assert.equal(
      await loadError(dir, 'manifest.yaml'),
      'manifests/fedora-coreos-base.yaml:41: check-passwd.filename: Can\'t open file "manifests/passwd" for reading',
    );
  });
});

describe('CentOS Stream bootc', () => {
  it('resolves centos-stream-9.yaml', async () => {
    const r = await load(CENTOS, 'centos-stream-9.yaml');
    assert.deepEqual(r.files, ['centos-stream-9.yaml', 'centos-stream-common.yaml']);
    assert.equal(r.treefile.releasever, 'stream9');
    assert.deepEqual(r.treefile.variables, { basearch: 'x86_64', distro: 'stream9', releasever: 'stream9' });
    assert.deepEqual(r.treefile.repos, ['baseos', 'appstream']);
    assert.deepEqual(r.treefile.packages, ['dnf-yum', 'subscription-manager']);
    assert.equal(r.treefile.postprocess!.length, 2);
    assert.match(r.treefile.postprocess![0]!, /20-rhel\.toml/);
    assert.deepEqual(r.postprocessOrigins, [
      { file: 'centos-stream-common.yaml', line: 14, index: 0 },
      { file: 'centos-stream-common.yaml', line: 24, index: 1 },
    ]);
  });

  it('fails on the tier-1 file, naming the missing resolved path', async () => {
    assert.equal(
      await loadError(CENTOS, 'centos-stream-9-tier1.yaml'),
      'centos-stream-9-tier1.yaml:3: include[1]: Can\'t open file "tier-1/kernel.yaml" for reading',
    );
  });
});
