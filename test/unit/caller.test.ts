import t from 'tap';
import { CallerResolver, HOST_CALLER, cgroupToName, detectCgroupMode, unifiedCgroupPath } from '../../src/server/caller.ts';

const v1 = (rest: string): string => `12:pids:/\n3:name=pantavisor:/${rest}\n0::/\n`;

t.test('cgroup v1 (name=pantavisor hierarchy)', async (t) => {
  t.equal(detectCgroupMode(v1('')), 'v1');
  t.equal(cgroupToName(v1(''), 'v1', false), HOST_CALLER, 'root is the host');
  t.equal(cgroupToName(v1('lxc/app'), 'v1', false), 'app');
  t.equal(cgroupToName(v1('lxc/app/sub'), 'v1', false), 'app', 'first component only');
  t.equal(cgroupToName(v1('other'), 'v1', false), 'other');
  t.equal(cgroupToName('0::/\n', 'v1', false), undefined, 'no pantavisor line');
});

t.test('cgroup v2 (unified)', async (t) => {
  t.equal(detectCgroupMode('0::/\n'), 'v2');
  t.equal(cgroupToName('0::/\n', 'v2', false), HOST_CALLER);
  t.equal(cgroupToName('0::/lxc/app\n', 'v2', false), 'app');
  t.equal(cgroupToName('0::/lxc/app/init.scope\n', 'v2', false), 'app');
  t.equal(cgroupToName('4:memory:/x/lxc/db\n0::/\n', 'v2', false), 'db', 'first line containing /lxc/ wins');
  t.equal(cgroupToName('0::/..\n', 'v2', false), undefined, 'parent of the namespace root: only in appengine');
  t.equal(cgroupToName('0::/..\n', 'v2', true), HOST_CALLER);
  t.equal(cgroupToName('0::/system.slice/x.service\n', 'v2', false), undefined, 'unknown cgroup is not the host');
  t.equal(cgroupToName('0::/system.slice/x.service\n', 'v2', false, ['/system.slice/x.service']), HOST_CALLER, "daemon's own cgroup");
  t.equal(cgroupToName('0::/lxc/\n', 'v2', false), undefined, 'empty name');
  t.equal(unifiedCgroupPath('1:cpu:/\n0::/a/b\n'), '/a/b');
});

t.test('resolver: exact host match, platforms, appengine suffix, recycled pids', async (t) => {
  const platforms = {
    findPlatform: (name: string) =>
      name === 'pvr-sdk' ? { name, mgmt: true } : name === 'app' ? { name, mgmt: false } : undefined,
  };
  const resolverFor = (cgroup: string, appengine = false, pidfdAlive?: (fd: number) => boolean) =>
    new CallerResolver({ mode: 'v2', appengine, readCgroup: () => cgroup, ...(pidfdAlive ? { pidfdAlive } : {}) });
  const peer = { pid: 42, uid: 0, gid: 0, pidfd: -1 };
  t.match(resolverFor('0::/\n').resolve(peer, platforms), { ok: true, caller: { kind: 'host', privileged: true } });
  t.match(resolverFor('0::/lxc/pvr-sdk\n').resolve(peer, platforms), { ok: true, caller: { name: 'pvr-sdk', privileged: true } });
  t.match(resolverFor('0::/lxc/app\n').resolve(peer, platforms), { ok: true, caller: { name: 'app', privileged: false } });
  t.match(resolverFor('0::/lxc/_pv\n').resolve(peer, platforms), { ok: false }, 'a prefix of _pv_ is not the host');
  t.match(resolverFor('0::/lxc/pvr-sdk-1\n').resolve(peer, platforms), { ok: false }, 'suffix kept outside appengine');
  t.match(resolverFor('0::/lxc/pvr-sdk-1\n', true).resolve(peer, platforms), { ok: true, caller: { name: 'pvr-sdk' } });
  t.match(resolverFor('0::/lxc/pvr-sdk-x\n', true).resolve(peer, platforms), { ok: false });
  t.match(resolverFor('0::/\n').resolve({ ...peer, pid: 0 }, platforms), { ok: false }, 'no pid, no identity');
  const exited = resolverFor('0::/\n', false, () => false).resolve({ ...peer, pidfd: 9 }, platforms);
  t.match(exited, { ok: false, reason: /exited/ }, 'a pidfd whose process is gone fails closed (its pid may name another process now)');
  const asked: number[] = [];
  const alive = resolverFor('0::/lxc/app\n', false, (fd) => asked.push(fd) > 0).resolve({ ...peer, pidfd: 9 }, platforms);
  t.match(alive, { ok: true, caller: { name: 'app' } }, 'a live pidfd: the cgroup read was the caller\'s');
  t.same(asked, [9], 'the pidfd of the connection is the one checked');
  const unreadable = new CallerResolver({ mode: 'v2', appengine: false, readCgroup: () => { throw new Error('ENOENT'); } });
  t.match(unreadable.resolve(peer, platforms), { ok: false });
});
