// Types of bin/bundle.js, for the tests (the launcher is plain JavaScript; tsconfig has no allowJs).
export const ROOT: string;
export const BUNDLE: string;
export function bundlePath(root: string): string;
export function isFresh(root?: string, file?: string): boolean;
export function build(root?: string, file?: string): Promise<string>;
export function runBundle(file: string): Promise<void>;
export function runKind(argv: string[]): string;
export function codeCacheFamily(argv: string[]): string;
export function codeCachePath(file: string, family: string): string;
