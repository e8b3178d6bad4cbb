/** Types of scripts/build.mjs (plain JavaScript, so that a fresh clone can build with node alone). */

/** True when dist/ is missing or was built from other inputs than the current src/. */
export function isStale(files?: string[]): boolean;
/** Builds dist/ from scratch; resolves with the number of files under src/. */
export function build(): Promise<number>;
/** Every file under src/, relative to it, sorted. */
export function sourceFiles(): string[];
/** Copies every file under src/ that is not TypeScript to the same relative path under `out`. */
export function copyAssets(out: string, files?: string[]): void;
