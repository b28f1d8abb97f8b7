// Types for latin1.mjs (plain JavaScript so the build runs before anything is compiled).
export declare function escapeBeyondLatin1(text: string): string;
export declare function keepLatin1(file: string): void;
