/** Where containers' cgroups are and how they are found: the pure parts of src/runtime/cgroups.ts. */
import t from 'tap';
import {
  LXC_CGROUP_PARENT,
  cgroupDirsIn,
  containerCgroupPaths,
  isNamespaceInit,
  lxcCgroupOverrides,
  parseCgroupMounts,
  parseProcCgroup,
  parseSubsystems,
} from '../../../src/runtime/cgroups.ts';
import { cgroupToName } from '../../../src/server/caller.ts';

const SUBSYSTEMS = parseSubsystems('#subsys_name\thierarchy\tnum_cgroups\tenabled\ncpu\t3\t1\t1\nmemory\t4\t1\t1\n');

const MOUNTINFO = [
  '22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw',
  '30 25 0:26 / /sys/fs/cgroup/unified rw,nosuid - cgroup2 cgroup2 rw,nsdelegate',
  '31 25 0:27 / /sys/fs/cgroup/memory rw,nosuid - cgroup cgroup rw,memory',
  '32 25 0:28 / /sys/fs/cgroup/cpu rw,nosuid - cgroup cgroup rw,cpu,clone_children',
  '33 25 0:29 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd',
  '40 22 0:27 / /mnt/memory\\040again rw - cgroup cgroup rw,memory',
  '41 22 0:26 /session /tmp/ns\\040cg rw - cgroup2 cgroup2 rw',
].join('\n');

t.test('placement: lxc/<name> for containers, lxc.monitor/<name> for monitors', async (t) => {
  t.same(containerCgroupPaths('app'), ['lxc/app', 'lxc.monitor/app']);
  t.same(new Map(lxcCgroupOverrides('app')), new Map([
    ['lxc.cgroup.relative', '0'],
    ['lxc.cgroup.dir.container', 'lxc/app'],
    ['lxc.cgroup.dir.monitor', 'lxc.monitor/app'],
    ['lxc.cgroup.dir.monitor.pivot', 'lxc.monitor'],
  ]));
  t.equal(new Map(lxcCgroupOverrides('app', { relative: true })).get('lxc.cgroup.relative'), '1');
});

t.test('caller identity reads the same placement', async (t) => {
  t.equal(cgroupToName(`0::/${LXC_CGROUP_PARENT}/app/sub`, 'v2', false), 'app', 'v2: the first component after lxc/');
  t.equal(cgroupToName(`5:name=pantavisor:/${LXC_CGROUP_PARENT}/app`, 'v1', false), 'app', 'v1 named hierarchy');
  t.equal(cgroupToName('0::/lxc.monitor/app', 'v2', false), undefined, 'a monitor is no container');
});

t.test('mountinfo: cgroup hierarchies, controllers without flags, escapes decoded', async (t) => {
  t.same(parseCgroupMounts(MOUNTINFO, SUBSYSTEMS), [
    { controllers: '', mountPoint: '/sys/fs/cgroup/unified', root: '/' },
    { controllers: 'memory', mountPoint: '/sys/fs/cgroup/memory', root: '/' },
    { controllers: 'cpu', mountPoint: '/sys/fs/cgroup/cpu', root: '/' },
    { controllers: 'name=systemd', mountPoint: '/sys/fs/cgroup/systemd', root: '/' },
    { controllers: 'memory', mountPoint: '/mnt/memory again', root: '/' },
    { controllers: '', mountPoint: '/tmp/ns cg', root: '/session' },
  ]);
});

t.test('directories of a path below a process cgroups, each hierarchy once', async (t) => {
  const bases = parseProcCgroup('0::/session/daemon\n4:memory:/\n3:cpu:/\n1:name=systemd:/init.scope\n');
  t.same(bases.get(''), '/session/daemon');
  const mounts = parseCgroupMounts(MOUNTINFO, SUBSYSTEMS);
  t.same(cgroupDirsIn(mounts, bases, 'lxc/app'), [
    '/sys/fs/cgroup/unified/session/daemon/lxc/app',
    '/sys/fs/cgroup/memory/lxc/app',
    '/sys/fs/cgroup/cpu/lxc/app',
    '/sys/fs/cgroup/systemd/init.scope/lxc/app',
  ], 'the bind mount of memory and the namespaced unified mount are not counted twice');
  const namespaced = cgroupDirsIn([{ controllers: '', mountPoint: '/tmp/ns cg', root: '/session' }], bases, 'lxc/app');
  t.same(namespaced, ['/tmp/ns cg/daemon/lxc/app'], 'a mount of a sub-tree strips its root');
  t.same(cgroupDirsIn([{ controllers: '', mountPoint: '/x', root: '/other' }], bases, 'lxc/app'), [], 'a base outside the mounted sub-tree is unreachable');
});

t.test('namespace init from /proc/<pid>/status', async (t) => {
  t.ok(isNamespaceInit('Name:\tsh\nNSpid:\t4711\t1\n'));
  t.notOk(isNamespaceInit('Name:\tsh\nNSpid:\t4711\t7\n'));
  t.notOk(isNamespaceInit('Name:\tsystemd\nNSpid:\t1\n'), 'the host init is not a container init');
  t.notOk(isNamespaceInit(''));
});
