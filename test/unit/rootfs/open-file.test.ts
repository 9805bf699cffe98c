// Sequential reads of a local rootfs (LocalRootfs.openFile), readContent through a reused buffer,
// and coalesce copying every piece (what lets the ostree export reuse its read buffer).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LocalRootfs } from '../../../src/rootfs/local.ts';
import { commitTree, readContent } from '../../../src/ostree/commit.ts';
import { coalesce } from '../../../src/ostree/tar.ts';
import { scanRootfs } from '../../../src/rootfs/scan.ts';

async function all(src: AsyncIterable<Uint8Array>): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  for await (const c of src) out.push(c);
  return out;
}

function tempTree(t: { after(fn: () => void): void }): string {
  const dir = mkdtempSync(join(tmpdir(), 'open-file-test-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz';

test('openFile: sequential reads, parents resolved inside the root, the last component never followed', async (t) => {
  const root = tempTree(t);
  mkdirSync(join(root, 'usr/lib'), { recursive: true });
  writeFileSync(join(root, 'usr/lib/data'), ALPHABET);
  symlinkSync('/usr/lib', join(root, 'lib'));
  symlinkSync('data', join(root, 'usr/lib/link'));
  execFileSync('mkfifo', [join(root, 'usr/fifo')]);
  const view = new LocalRootfs(root);
  const d = `rootfs dir '${root}'`;

  const f = await view.openFile('lib/data');
  assert.equal(f.size, 26);
  const buf = new Uint8Array(10);
  const got: string[] = [];
  for (let n; (n = await f.read(buf)) > 0;) got.push(Buffer.from(buf.subarray(0, n)).toString());
  await f.close();
  assert.deepEqual(got, ['abcdefghij', 'klmnopqrst', 'uvwxyz']);

  await assert.rejects(view.openFile('usr/lib/link'), { message: `${d}: 'usr/lib/link' is not a regular file` });
  await assert.rejects(view.openFile('usr/fifo'), { message: `${d}: 'usr/fifo' is not a regular file` }); // and no hang
  await assert.rejects(view.openFile('usr'), { message: `${d}: 'usr' is not a regular file` });
  await assert.rejects(view.openFile('usr/missing'), { message: `${d}: file 'usr/missing' does not exist` });
  await assert.rejects(view.openFile('nope/missing'), { message: `${d}: file 'nope/missing' does not exist` });
  await assert.rejects(view.openFile('usr/../etc'), { message: `${d}: invalid path 'usr/../etc' (want a relative path without '.', '..' or empty components)` });
});

test('readContent: a reused buffer is filled for every chunk; a size change since the scan fails', async (t) => {
  const root = tempTree(t);
  writeFileSync(join(root, 'big'), ALPHABET);
  writeFileSync(join(root, 'empty'), '');
  const view = new LocalRootfs(root);
  const buf = Buffer.alloc(8);
  const chunks: string[] = [];
  for await (const c of readContent(view, 'big', 26, 4 << 20, buf)) {
    assert.equal(c.buffer, buf.buffer); // a view of the caller's buffer, not a new allocation
    chunks.push(Buffer.from(c).toString());
  }
  assert.deepEqual(chunks, ['abcdefgh', 'ijklmnop', 'qrstuvwx', 'yz']);
  // Without a buffer: chunks of chunkSize that stay valid (collected first, read afterwards).
  const fresh = await all(readContent(view, 'big', 26, 10));
  assert.deepEqual(fresh.map((c) => Buffer.from(c).toString()), ['abcdefghij', 'klmnopqrst', 'uvwxyz']);
  assert.deepEqual(await all(readContent(view, 'empty', 0, 10, buf)), []);

  await assert.rejects(all(readContent(view, 'big', 25, 10, buf)),
    { message: `rootfs dir '${root}': '/big' changed while being read (expected 25 bytes)` });
  await assert.rejects(all(readContent(view, 'empty', 3, 10, buf)),
    { message: `rootfs dir '${root}': '/empty' changed while being read (expected 3 bytes)` });
});

test('commitTree on a local tree: the same checksums with tiny reused buffers as with whole-file reads', async (t) => {
  const root = tempTree(t);
  mkdirSync(join(root, 'usr/bin'), { recursive: true });
  for (let i = 0; i < 20; i++) writeFileSync(join(root, `usr/bin/f${i}`), ALPHABET.repeat(i));
  const view = new LocalRootfs(root);
  const { entries } = await scanRootfs(view);
  const opts = { root: { uid: 0, gid: 0, mode: 0o755 }, timestamp: 0 };
  const small = await commitTree(view, entries, { ...opts, chunkSize: 7, concurrency: 3 });
  const whole = await commitTree({ description: 'plain', readDir: view.readDir.bind(view), stat: view.stat.bind(view), readFile: view.readFile.bind(view) },
    entries, opts);
  assert.equal(small.commit, whole.commit);
  assert.deepEqual([...small.files], [...whole.files]);
});

test('coalesce: every piece is copied into fresh blocks of the target size', async () => {
  const reused = Buffer.alloc(6);
  async function* src() {
    for (const s of ['abcdef', 'ghi', 'jklmno']) {
      reused.write(s.padEnd(6, '-'));
      yield reused.subarray(0, s.length);
    }
  }
  const blocks = await all(coalesce(src(), 4));
  reused.fill(0); // the source reusing its buffer must not change what was already handed on
  assert.deepEqual(blocks.map((b) => Buffer.from(b).toString()), ['abcd', 'efgh', 'ijkl', 'mno']);
  assert.equal(new Set(blocks.map((b) => b.buffer)).size, 4);
  assert.ok(blocks.every((b) => b.buffer !== reused.buffer));
});

test('openFile: synchronous reads still give the event loop a turn (timers, signals)', async (t) => {
  const root = tempTree(t);
  writeFileSync(join(root, 'f'), ALPHABET);
  const view = new LocalRootfs(root);
  const buf = Buffer.alloc(64);
  let fired = false;
  setTimeout(() => { fired = true; }, 0);
  // Without a turn, only microtasks run here and the timer cannot fire before the loop gives up.
  const start = performance.now();
  let reads = 0;
  while (!fired && performance.now() - start < 500) {
    for await (const c of readContent(view, 'f', 26, 1024, buf)) assert.equal(c.length, 26);
    reads++;
  }
  assert.equal(fired, true, `the timer did not fire during ${reads} reads`);
});
