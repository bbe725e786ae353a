export function newSecrets(): Promise<{ MASTER_KEY: string; SIGNING_KEY: string }>;
export function ensureDevVars(path?: string): Promise<boolean>;
export function ensurePluginDevVars(root?: string): void;
