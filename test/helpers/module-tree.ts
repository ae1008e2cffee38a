/**
 * A kernel module tree for tests: stub `.ko` files plus the indexes depmod would write, so
 * libkmod resolves names, aliases and dependencies exactly as on a device.
 *
 * libkmod never reads the text files: lookups use only `modules.*.bin` (a trie of keys to
 * prioritised values, libkmod-index.c); without modules.dep.bin nothing resolves, without
 * modules.alias.bin no alias does (libkmod 30 shrugs off the other indexes missing). depmod is
 * not installed on the test machines and would need real ELF objects, so the indexes are written
 * here; the text files are written as well, for humans and tools.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

export interface StubModule {
  /** Module name as depmod derives it from the file name (dashes allowed, indexed with underscores). */
  name: string;
  /** Directory of the .ko under the version directory. */
  dir?: string;
  /** Direct dependencies by name; the closure is computed like depmod does. */
  depends?: string[];
  /** modules.alias patterns (fnmatch wildcards allowed), e.g. `pci:v00008086d*sv*sd*bc*sc*i*`. */
  aliases?: string[];
  /** Exported symbols (modules.symbols). */
  symbols?: string[];
}

export interface ModuleTreeSpec {
  /** Kernel release directory name; default `6.0.0-pvtest`. */
  version?: string;
  modules: StubModule[];
  /** Names listed in modules.builtin (kernel/<name>.ko). */
  builtin?: string[];
}

export interface ModuleTree {
  /** `<root>/lib/modules/<version>`: what kmod_new() and PVCTRL_MODULES_DIR take. */
  dir: string;
  version: string;
  /** Relative path of each module's .ko, by name. */
  paths: Map<string, string>;
}

const normalizeName = (name: string): string => name.replaceAll('-', '_');

/** libkmod's alias_normalize(): dashes become underscores outside [...] ranges. */
export function normalizeAlias(alias: string): string {
  let out = '';
  let inRange = false;
  for (const ch of alias) {
    if (ch === '[') inRange = true;
    else if (ch === ']') inRange = false;
    out += ch === '-' && !inRange ? '_' : ch;
  }
  return out;
}

interface TrieNode {
  children: Map<number, TrieNode>;
  values: { priority: number; value: string }[];
}

const INDEX_MAGIC = 0xb007f457;
const INDEX_VERSION = 0x00020001;
const NODE_PREFIX = 0x80000000;
const NODE_VALUES = 0x40000000;
const NODE_CHILDS = 0x20000000;

/**
 * Serialise key → values into libkmod's index format: big-endian u32s, a Patricia trie whose
 * nodes carry a NUL-terminated prefix, a dense child table [first..last] and prioritised
 * values. Children are written before their parent so every offset is known when needed.
 */
export function writeIndex(entries: readonly { key: string; value: string; priority: number }[]): Buffer {
  const root: TrieNode = { children: new Map(), values: [] };
  for (const { key, value, priority } of entries) {
    let node = root;
    for (const ch of Buffer.from(key, 'latin1')) {
      if (ch === 0 || ch >= 128) throw new Error(`index key ${JSON.stringify(key)}: only 7-bit ASCII is indexable`);
      let child = node.children.get(ch);
      if (child === undefined) {
        child = { children: new Map(), values: [] };
        node.children.set(ch, child);
      }
      node = child;
    }
    node.values.push({ priority, value });
  }
  const chunks: Buffer[] = [];
  let offset = 12;
  const u32 = (value: number): Buffer => {
    const buffer = Buffer.alloc(4);
    buffer.writeUInt32BE(value >>> 0);
    return buffer;
  };
  const emit = (start: TrieNode): number => {
    // Merge single-child chains without values into this node's prefix.
    let prefix = '';
    let node = start;
    while (node.values.length === 0 && node.children.size === 1) {
      const [ch, child] = [...node.children][0]!;
      prefix += String.fromCharCode(ch);
      node = child;
    }
    const keys = [...node.children.keys()].sort((a, b) => a - b);
    const childOffsets = new Map<number, number>();
    for (const ch of keys) childOffsets.set(ch, emit(node.children.get(ch)!));
    const parts: Buffer[] = [];
    let flags = 0;
    if (prefix !== '') {
      flags |= NODE_PREFIX;
      parts.push(Buffer.from(`${prefix}\0`, 'latin1'));
    }
    if (keys.length > 0) {
      flags |= NODE_CHILDS;
      const first = keys[0]!;
      const last = keys[keys.length - 1]!;
      parts.push(Buffer.from([first, last]));
      for (let ch = first; ch <= last; ch++) parts.push(u32(childOffsets.get(ch) ?? 0));
    }
    if (node.values.length > 0) {
      flags |= NODE_VALUES;
      parts.push(u32(node.values.length));
      for (const { priority, value } of [...node.values].sort((a, b) => a.priority - b.priority)) {
        parts.push(u32(priority), Buffer.from(`${value}\0`, 'latin1'));
      }
    }
    const at = offset;
    const body = Buffer.concat(parts);
    chunks.push(body);
    offset += body.length;
    return (at | flags) >>> 0;
  };
  const rootOffset = emit(root);
  return Buffer.concat([u32(INDEX_MAGIC), u32(INDEX_VERSION), u32(rootOffset), ...chunks]);
}

/**
 * Dependencies of a module as modules.dep lists them: the transitive closure, each module
 * before the ones it needs, so libkmod (which prepends while parsing) yields load order.
 */
function dependencyClosure(name: string, byName: Map<string, StubModule>): string[] {
  const order: string[] = [];
  const visiting = new Set<string>();
  const visit = (current: string): void => {
    const module = byName.get(current);
    if (module === undefined) throw new Error(`module tree: unknown dependency ${current}`);
    for (const dep of module.depends ?? []) {
      if (order.includes(dep)) continue;
      if (visiting.has(dep)) throw new Error(`module tree: dependency cycle at ${dep}`);
      visiting.add(dep);
      visit(dep);
      visiting.delete(dep);
      order.push(dep);
    }
  };
  visit(name);
  return order.reverse();
}

export function buildModuleTree(root: string, spec: ModuleTreeSpec): ModuleTree {
  const version = spec.version ?? '6.0.0-pvtest';
  const dir = join(root, 'lib', 'modules', version);
  mkdirSync(dir, { recursive: true });
  const byName = new Map(spec.modules.map((module) => [module.name, module]));
  const paths = new Map<string, string>();
  for (const module of spec.modules) {
    const relative = join(module.dir ?? 'kernel/drivers/pvtest', `${module.name}.ko`);
    paths.set(module.name, relative);
    mkdirSync(dirname(join(dir, relative)), { recursive: true });
    // Not a loadable object: enough for libkmod to open and hand to the kernel, which refuses it.
    writeFileSync(join(dir, relative), `\x7fELF stub module ${module.name} for pv-ctrl tests\n`);
  }

  const depLines: string[] = [];
  const depIndex: { key: string; value: string; priority: number }[] = [];
  spec.modules.forEach((module, index) => {
    const deps = dependencyClosure(module.name, byName).map((dep) => paths.get(dep)!);
    const line = `${paths.get(module.name)!}:${deps.map((path) => ` ${path}`).join('')}`;
    depLines.push(line);
    depIndex.push({ key: normalizeName(module.name), value: line, priority: index });
  });
  const aliasIndex: { key: string; value: string; priority: number }[] = [];
  const aliasLines: string[] = [];
  const symbolIndex: { key: string; value: string; priority: number }[] = [];
  const symbolLines: string[] = [];
  spec.modules.forEach((module, index) => {
    for (const alias of module.aliases ?? []) {
      aliasLines.push(`alias ${alias} ${normalizeName(module.name)}`);
      aliasIndex.push({ key: normalizeAlias(alias), value: normalizeName(module.name), priority: index });
    }
    for (const symbol of module.symbols ?? []) {
      symbolLines.push(`alias symbol:${symbol} ${normalizeName(module.name)}`);
      symbolIndex.push({ key: `symbol:${symbol}`, value: normalizeName(module.name), priority: index });
    }
  });
  const builtin = spec.builtin ?? [];
  const text = (lines: string[]): string => (lines.length > 0 ? `${lines.join('\n')}\n` : '');
  writeFileSync(join(dir, 'modules.dep'), text(depLines));
  writeFileSync(join(dir, 'modules.alias'), text(['# Aliases extracted from modules themselves.', ...aliasLines]));
  writeFileSync(join(dir, 'modules.symbols'), text(['# Aliases for symbols, used by symbol_request().', ...symbolLines]));
  writeFileSync(join(dir, 'modules.builtin'), text(builtin.map((name) => `kernel/${name}.ko`)));
  writeFileSync(join(dir, 'modules.dep.bin'), writeIndex(depIndex));
  writeFileSync(join(dir, 'modules.alias.bin'), writeIndex(aliasIndex));
  writeFileSync(join(dir, 'modules.symbols.bin'), writeIndex(symbolIndex));
  writeFileSync(join(dir, 'modules.builtin.bin'), writeIndex(builtin.map((name, index) => ({ key: normalizeName(name), value: '', priority: index }))));
  writeFileSync(join(dir, 'modules.builtin.alias.bin'), writeIndex([]));
  return { dir, version, paths };
}
