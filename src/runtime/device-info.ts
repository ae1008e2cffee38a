/** The device-meta keys Pantavisor maintains about the machine itself (spec §10.5). */
import { readFileSync } from 'node:fs';
import os from 'node:os';
import type { SpaceReport } from '../storage/free-space.ts';

const ARCH_NAMES: Record<string, string> = { x64: 'x86_64', arm64: 'aarch64', arm: 'arm', ia32: 'i386', riscv64: 'riscv64' };

function readOr(path: string, fallback: string): string {
  try {
    return readFileSync(path, 'utf8').replace(/\0+$/, '').trim();
  } catch {
    return fallback;
  }
}

function cpuModel(): string {
  const cpuinfo = readOr('/proc/cpuinfo', '');
  const line = cpuinfo.split('\n').find((candidate) => /^(model name|Model|Hardware)\s*:/.test(candidate));
  return line === undefined ? (os.cpus()[0]?.model ?? '') : line.slice(line.indexOf(':') + 1).trim();
}

export function interfacesJson(): string {
  const result: Record<string, string[]> = {};
  for (const [name, addresses] of Object.entries(os.networkInterfaces())) {
    for (const address of addresses ?? []) {
      const family = address.family === 'IPv4' ? 'ipv4' : 'ipv6';
      const text = family === 'ipv6' && address.address.startsWith('fe80') ? `${address.address}%${name}` : address.address;
      (result[`${name}.${family}`] ??= []).push(text);
      if (address.mac !== '00:00:00:00:00:00') {
        const macs = (result[`${name}.mac`] ??= []);
        if (!macs.includes(address.mac)) macs.push(address.mac);
      }
    }
  }
  return JSON.stringify(result);
}

export function storageJson(space: SpaceReport): string {
  return JSON.stringify({ total: space.total, free: space.free, reserved: space.reserved, real_free: space.realFree });
}

export function deviceFacts(options: { version: string; revision: string; mode: 'local' | 'remote' }): Record<string, string> {
  const now = Date.now();
  const [load1 = 0, load5 = 0, load15 = 0] = os.loadavg();
  const loads = (value: number): number => Math.round(value * 65536);
  return {
    'pantavisor.arch': `${ARCH_NAMES[process.arch] ?? process.arch}/${process.arch.endsWith('64') ? 64 : 32}/${os.endianness() === 'LE' ? 'EL' : 'EB'}`,
    'pantavisor.version': options.version,
    'pantavisor.dtmodel': readOr('/proc/device-tree/model', ''),
    'pantavisor.cpumodel': cpuModel(),
    'pantavisor.revision': options.revision,
    'pantavisor.mode': options.mode,
    'pantahub.online': '0',
    'pantahub.claimed': '0',
    'pantavisor.uname': JSON.stringify({
      'kernel.name': os.type(),
      'kernel.release': os.release(),
      'kernel.version': os.version(),
      'node.name': os.hostname(),
      machine: os.machine(),
    }),
    time: JSON.stringify({
      timeval: { tv_sec: Math.floor(now / 1000), tv_usec: (now % 1000) * 1000 },
      timezone: { tz_minuteswest: new Date().getTimezoneOffset(), tz_dsttime: 0 },
    }),
    sysinfo: JSON.stringify({
      uptime: Math.floor(os.uptime()),
      'loads.0': loads(load1),
      'loads.1': loads(load5),
      'loads.2': loads(load15),
      totalram: os.totalmem(),
      freeram: os.freemem(),
      sharedram: 0,
      bufferram: 0,
      totalswap: 0,
      freeswap: 0,
      procs: 0,
      totalhigh: 0,
      freehigh: 0,
      mem_unit: 1,
    }),
    interfaces: interfacesJson(),
  };
}
