/**
 * Typed facade over the memory part of the pvctrl_native (core) addon (native/src/image_page_out.cpp):
 * giving the clean file pages of the process's own image (runtime code, the embedded program,
 * the libraries) back to the kernel once the daemon is quiet (docs/footprint.md, "Where the
 * memory goes").
 */
import { concernExports } from './index.ts';

export interface ImagePageOut {
  /** False on kernels without MADV_PAGEOUT (before 5.4): nothing was done. */
  supported: boolean;
  /** Read-only file mappings advised, and their size. */
  ranges: number;
  mappedBytes: number;
  /** Mappings that went away between listing and advising them. */
  skipped: number;
  /** The process's resident file-backed memory (RssFile) before and after, in bytes; -1 if unknown. */
  residentFileBefore: number;
  residentFileAfter: number;
}

interface MemoryExports {
  pageOutImage(): Promise<ImagePageOut>;
}

/** Page out the read-only file mappings, on a thread of the addon's own; resolves with what it did. */
export function pageOutImage(): Promise<ImagePageOut> {
  return concernExports<'memory', MemoryExports>('memory').pageOutImage();
}
