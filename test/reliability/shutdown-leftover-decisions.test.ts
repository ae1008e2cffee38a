/** The pure decisions behind the leftover sweep: which mounts and loop devices are this run's. */
import t from 'tap';
import { mountsBelow, parseMountinfo } from '../../src/runtime/mounts.ts';
import { strayLoopDevices } from '../../src/runtime/leftovers.ts';

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '90 22 7:3 / /tmp/d/containers/a/volumes/root.squashfs ro,nodev,relatime - squashfs /dev/loop3 ro',
  '91 22 0:50 / /tmp/d/containers/a/rootfs rw,relatime - overlay overlay rw,lowerdir=/tmp/d/containers/a/volumes/root.squashfs',
  '92 22 0:51 / /tmp/d/containers/a\\040b/rootfs rw,relatime - overlay overlay rw',
  '93 22 0:52 / /tmp/d/containers-other rw,relatime - tmpfs tmpfs rw',
].join('\n');

t.test('mountinfo: mount points and sources, octal escapes decoded', async (t) => {
  const entries = parseMountinfo(MOUNTINFO);
  t.equal(entries.length, 5);
  t.same(entries[1], { mountPoint: '/tmp/d/containers/a/volumes/root.squashfs', source: '/dev/loop3' });
  t.equal(entries[3]?.mountPoint, '/tmp/d/containers/a b/rootfs');
});

t.test('mounts below a folder: deepest first, and not a sibling that shares the prefix', async (t) => {
  t.same(mountsBelow(parseMountinfo(MOUNTINFO), '/tmp/d/containers'), [
    '/tmp/d/containers/a/volumes/root.squashfs',
    '/tmp/d/containers/a b/rootfs',
    '/tmp/d/containers/a/rootfs',
  ]);
  t.same(mountsBelow(parseMountinfo(MOUNTINFO), '/tmp/d/containers/a'), ['/tmp/d/containers/a/volumes/root.squashfs', '/tmp/d/containers/a/rootfs']);
});

t.test('stray loop devices: backed by the storage and mounted nowhere', async (t) => {
  const loops = [
    { device: '/dev/loop3', backingFile: '/tmp/d/storage/trails/x/a/root.squashfs' },
    { device: '/dev/loop4', backingFile: '/tmp/d/storage/objects/abc' },
    { device: '/dev/loop5', backingFile: '/tmp/d/storage/objects/def (deleted)' },
    { device: '/dev/loop6', backingFile: '/tmp/d/storage-other/objects/abc' },
    { device: '/dev/loop7', backingFile: '/var/lib/images/base.img' },
  ];
  t.same(
    strayLoopDevices(loops, '/tmp/d/storage', parseMountinfo(MOUNTINFO)).map((loop) => loop.device),
    ['/dev/loop4', '/dev/loop5'],
    'loop3 is mounted (kept), loop6/loop7 are not ours',
  );
});
