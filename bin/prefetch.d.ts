// Types of bin/prefetch.js, for the tests (the launcher is plain JavaScript; tsconfig has no allowJs).
export const PREFETCH_KEY: symbol;
export function gunzipOptions(data: Uint8Array): { maxOutputLength: number; chunkSize: number };
export function prefetchKernel(argv: string[], root: string, cacheDir?: string): void;
export const KERNEL_CACHE_FILES: number;
export const KERNEL_CACHE_KEY: symbol;
export function offerKernelCache(dir: string): void;
export function kernelCacheFile(dir: string, path: string, st: { dev: number; ino: number; size: number; mtimeMs: number; ctimeMs: number }): string;
export const WINTERP_KEY: symbol;
export function prefetchWasmInterpreter(argv: string[], bundle: string): void;
export function confirmWasmInterpreter(stamp: string): Promise<void>;
