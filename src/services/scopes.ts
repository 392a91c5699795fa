/** API key scopes (DESIGN.md "Auth"). `admin` grants every other scope too. */
export const SCOPES = ['status:read', 'residents:write', 'certificates:write', 'inquiries:write', 'admin'] as const;
export type Scope = (typeof SCOPES)[number];

export interface Principal {
  keyId: string;
  scopes: readonly string[];
}

export function hasScope(principal: Principal, scope: Scope): boolean {
  return principal.scopes.includes(scope) || principal.scopes.includes('admin');
}
