export const privateNetworkAllowed = (_env: unknown) => true;
export const refusalFor = (_url: URL) => null as string | null;
