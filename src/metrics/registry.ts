/**
 * A small metrics registry written out in the Prometheus text exposition format 0.0.4
 * (https://prometheus.io/docs/instrumenting/exposition_formats/). Counters and histograms
 * hold values; gauges of state that has an owner elsewhere are `collected` at scrape time from
 * that owner, so nothing is kept twice.
 *
 * Hot path: a labelled child is resolved once (`labels(...)`) and kept by the caller; `inc` and
 * `observe` then only add to numbers already allocated (a histogram's buckets are a fixed
 * Float64Array). Everything that makes text happens in `render`, at scrape time.
 */

export type MetricType = 'counter' | 'gauge' | 'histogram';

/** A value read at scrape time: label values in the order of the family's label names. */
export interface Sample {
  readonly labels: readonly string[];
  readonly value: number;
}

/** Request durations and similar: 0.5 ms to 30 s, enough resolution where a local API lives. */
export const DURATION_BUCKETS: readonly number[] = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

const METRIC_NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label value escaping of the text format: backslash, double quote and line feed. */
export function escapeLabelValue(value: string): string {
  return value.replace(/[\\"\n]/g, (character) => (character === '\n' ? '\\n' : `\\${character}`));
}

/** HELP text escaping: backslash and line feed (a quote stays as is). */
export function escapeHelp(text: string): string {
  return text.replace(/[\\\n]/g, (character) => (character === '\n' ? '\\n' : '\\\\'));
}

/** Sample values as the format spells them: Go float syntax, `+Inf`, `-Inf`, `NaN`. */
export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** `le` is the histogram's own label; `__` names are reserved to Prometheus. */
function checkNames(name: string, labelNames: readonly string[]): void {
  if (!METRIC_NAME.test(name)) throw new Error(`invalid metric name ${name}`);
  for (const label of labelNames) {
    if (!LABEL_NAME.test(label) || label.startsWith('__') || label === 'le') throw new Error(`invalid label name ${label} of ${name}`);
  }
}

function labelText(names: readonly string[], values: readonly string[], extraName?: string, extraValue?: string): string {
  const parts: string[] = [];
  for (let index = 0; index < names.length; index++) parts.push(`${names[index]}="${escapeLabelValue(values[index] ?? '')}"`);
  if (extraName !== undefined) parts.push(`${extraName}="${extraValue ?? ''}"`);
  return parts.length === 0 ? '' : `{${parts.join(',')}}`;
}

abstract class Family<Child> {
  private readonly children = new Map<string, { values: readonly string[]; child: Child }>();

  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: MetricType,
    readonly labelNames: readonly string[],
  ) {
    checkNames(name, labelNames);
  }

  /** The child for these label values; resolve once and keep it where it is used often. */
  labels(...values: string[]): Child {
    if (values.length !== this.labelNames.length) throw new Error(`${this.name} takes ${this.labelNames.length} label values, got ${values.length}`);
    // \u0000 cannot occur in a label value we accept from a route table or a container name.
    const key = values.join('\u0000');
    let entry = this.children.get(key);
    if (entry === undefined) {
      entry = { values, child: this.create() };
      this.children.set(key, entry);
    }
    return entry.child;
  }

  protected abstract create(): Child;
  protected abstract lines(values: readonly string[], child: Child, out: string[]): void;

  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const { values, child } of this.children.values()) this.lines(values, child, out);
  }
}

export class CounterChild {
  value = 0;
  inc(amount = 1): void {
    // A counter only goes up; a negative or NaN amount is a caller's bug, not a reset.
    if (amount > 0) this.value += amount;
  }
}

export class Counter extends Family<CounterChild> {
  protected create(): CounterChild {
    return new CounterChild();
  }
  protected lines(values: readonly string[], child: CounterChild, out: string[]): void {
    out.push(`${this.name}${labelText(this.labelNames, values)} ${formatValue(child.value)}`);
  }
}

export class HistogramChild {
  /** Per-bucket (not cumulative) counts; the last slot is above the highest bound (+Inf). */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(private readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(value: number): void {
    const bounds = this.bounds;
    let index = 0;
    while (index < bounds.length && value > (bounds[index] as number)) index++;
    this.counts[index] = (this.counts[index] ?? 0) + 1;
    this.sum += value;
    this.count++;
  }
}

export class Histogram extends Family<HistogramChild> {
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, 'histogram', labelNames);
    for (let index = 1; index < buckets.length; index++) {
      if (!((buckets[index] as number) > (buckets[index - 1] as number))) throw new Error(`buckets of ${name} must increase`);
    }
    if (buckets.some((bound) => !Number.isFinite(bound))) throw new Error(`buckets of ${name} must be finite (+Inf is implied)`);
  }
  protected create(): HistogramChild {
    return new HistogramChild(this.buckets);
  }
  protected lines(values: readonly string[], child: HistogramChild, out: string[]): void {
    let cumulative = 0;
    for (let index = 0; index < this.buckets.length; index++) {
      cumulative += child.counts[index] as number;
      out.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le', formatValue(this.buckets[index] as number))} ${formatValue(cumulative)}`);
    }
    out.push(`${this.name}_bucket${labelText(this.labelNames, values, 'le', '+Inf')} ${formatValue(child.count)}`);
    out.push(`${this.name}_sum${labelText(this.labelNames, values)} ${formatValue(child.sum)}`);
    out.push(`${this.name}_count${labelText(this.labelNames, values)} ${formatValue(child.count)}`);
  }
}

/** A family whose samples are read from their owner at every scrape. */
class Collected {
  constructor(
    readonly name: string,
    readonly help: string,
    readonly type: 'counter' | 'gauge',
    readonly labelNames: readonly string[],
    private readonly read: () => Iterable<Sample>,
  ) {
    checkNames(name, labelNames);
  }
  render(out: string[]): void {
    out.push(`# HELP ${this.name} ${escapeHelp(this.help)}`, `# TYPE ${this.name} ${this.type}`);
    for (const sample of this.read()) out.push(`${this.name}${labelText(this.labelNames, sample.labels)} ${formatValue(sample.value)}`);
  }
}

export class Registry {
  private readonly families: { name: string; render(out: string[]): void }[] = [];

  counter(name: string, help: string, labelNames: readonly string[] = []): Counter {
    return this.add(new Counter(name, help, 'counter', labelNames));
  }

  histogram(name: string, help: string, labelNames: readonly string[] = [], buckets: readonly number[] = DURATION_BUCKETS): Histogram {
    return this.add(new Histogram(name, help, labelNames, buckets));
  }

  /** A gauge (or a counter kept by another owner) read at scrape time. */
  collect(name: string, help: string, type: 'counter' | 'gauge', labelNames: readonly string[], read: () => Iterable<Sample>): void {
    this.add(new Collected(name, help, type, labelNames, read));
  }

  /** The whole exposition; a collector that throws is a bug and is reported as one (not hidden). */
  render(): string {
    const out: string[] = [];
    for (const family of this.families) family.render(out);
    return `${out.join('\n')}\n`;
  }

  private add<F extends { name: string; render(out: string[]): void }>(family: F): F {
    if (this.families.some((existing) => existing.name === family.name)) throw new Error(`duplicate metric ${family.name}`);
    this.families.push(family);
    return family;
  }
}

/** The Content-Type of the text format this registry writes. */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';
