export function newSecrets(): Promise<{ MASTER_KEY: string; SIGNING_KEY: string }>;
export function ensureDevVars(path?: string): Promise<boolean>;
export function ensurePluginDevVars(root?: string): void;
export function declaredQuotaVars(config?: string): Map<string, string>;
export function quotaVarsFromEnv(
  env?: Record<string, string | undefined>,
  declared?: Map<string, string>,
): { vars: Record<string, string>; errors: string[] };
export function varArgs(vars: Record<string, string>): string[];
