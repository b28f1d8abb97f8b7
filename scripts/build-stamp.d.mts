// Types for build-stamp.mjs (plain JavaScript so the build runs before anything is compiled).
export declare const BUILD_INPUTS: string[];
export declare const BUILD_PACKAGES: string[];
export declare const STAMP_FILE: string;
export declare function buildStamp(root: string, inputs?: string[], packages?: string[]): string;
export declare function distIsCurrent(root: string, dist?: string, required?: string[]): boolean;
