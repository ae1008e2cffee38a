/**
 * Turns each graph pv-ctrl reports into the set of live links: links that appeared are
 * opened, links that vanished or changed (a container restarted, so its pid changed) are
 * torn down and recreated, broken ones are repaired on the next pass.
 */
import type { XconnectLink } from './graph.ts';
import { describeLink, linkIdentity, UnixLink, type LinkLogger } from './unix-link.ts';

/** Opening links: the seam the tests replace to run without containers. */
export type LinkOpener = (link: XconnectLink, log: LinkLogger) => Promise<UnixLink>;

export class Reconciler {
  /** Keyed by consumer and target: one path inside one container can be served once. */
  private readonly links = new Map<string, UnixLink>();
  /** Messages already said, so a graph read again does not repeat them. */
  private readonly said = new Map<string, string>();
  private failedOpens = 0;

  constructor(
    private readonly log: LinkLogger,
    private readonly open: LinkOpener = (link, log) => UnixLink.open(link, log),
  ) {}

  get size(): number {
    return this.links.size;
  }

  /** Links of the last graph that could not be set up (retried by the next pass). */
  get unset(): number {
    return this.failedOpens;
  }

  async apply(graph: readonly XconnectLink[]): Promise<void> {
    const desired = new Map<string, XconnectLink>();
    for (const link of graph) {
      // Only unix links for now; rest, dbus, drm, wayland and input need their own
      // proxies (HTTP-aware, D-Bus policy, device nodes) and come later.
      if (link.type !== 'unix') {
        this.sayOnce(`type:${linkIdentity(link)}`, `link ${describeLink(link)}: type ${link.type} not supported yet, skipped`);
        continue;
      }
      if (link.consumer_pid <= 0 || link.provider_pid <= 0) continue;
      if (link.target === null || link.socket === null) {
        this.sayOnce(`path:${linkIdentity(link)}`, `link ${describeLink(link)}: needs both a target and a socket, skipped`);
        continue;
      }
      const key = `${link.consumer}\0${link.target}`;
      if (desired.has(key)) {
        this.sayOnce(`dup:${linkIdentity(link)}`, `link ${describeLink(link)}: ${link.target} in ${link.consumer} already served by ${desired.get(key)?.provider}, skipped`);
        continue;
      }
      desired.set(key, link);
    }

    for (const [key, active] of this.links) {
      const wanted = desired.get(key);
      let reason: string | undefined;
      if (wanted === undefined) reason = 'no longer in the graph or a container stopped';
      else if (linkIdentity(wanted) !== active.identity) reason = 'a container restarted';
      else if (!active.healthy()) reason = 'its socket went away';
      if (reason === undefined) continue;
      this.links.delete(key);
      await active.close(reason);
    }

    this.failedOpens = 0;
    for (const [key, link] of desired) {
      if (this.links.has(key)) continue;
      try {
        this.links.set(key, await this.open(link, this.log));
        this.said.delete(`open:${key}`);
      } catch (error) {
        this.failedOpens++;
        // Retried by the next pass; said again only when the reason changes.
        this.sayOnce(`open:${key}`, `link ${describeLink(link)}: cannot set up: ${(error as Error).message}`, 'error');
      }
    }
  }

  async closeAll(reason: string): Promise<void> {
    const active = [...this.links.values()];
    this.links.clear();
    await Promise.allSettled(active.map((link) => link.close(reason)));
  }

  private sayOnce(key: string, message: string, level: 'info' | 'error' = 'info'): void {
    if (this.said.get(key) === message) return;
    this.said.set(key, message);
    this.log[level](message);
  }
}
