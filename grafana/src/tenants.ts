/**
 * Server mode, one Grafana organization per tenant: each org gets the ragscope data source (same uid, so the
 * dashboards work unchanged) signed in as that tenant's ClickHouse user, whose row policies cut every read to
 * the tenant's rows (processor/src/auth/server-tenancy.ts), and the same dashboards. Organizations are the
 * fence in Grafana: a data source is visible to every user of its org. Generated from the keys file by
 * `npm run grafana:tenants` into grafana/provisioning/{datasources,dashboards}/tenants.yaml.
 */
import { keyUser, readEntries } from '../../processor/src/auth/server-tenancy.js';
import type { ApiKeyEntry } from '../../processor/src/auth/api-keys.js';
import { dashboardProvider, datasourceProvisioning } from './provisioning.js';

export interface TenantOrg {
  tenant: string;
  /** The Grafana organization of the tenant (create it first: Grafana does not provision organizations). */
  orgId: number;
}

export class TenantProvisioningError extends Error {}

/** Environment variable holding the read key Grafana signs in with for `tenant` (the key is the user's password). */
export const tenantPasswordEnv = (tenant: string): string => `RAGSCOPE_GRAFANA_KEY_${tenant.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

/** The read key a tenant's data source uses: the one named "grafana", else the tenant's first read key. */
function grafanaKeyOf(entries: readonly ApiKeyEntry[], tenant: string): ApiKeyEntry {
  const keys = readEntries(entries).filter((e) => e.tenant === tenant);
  const key = keys.find((e) => e.name === 'grafana') ?? keys[0];
  if (!key) throw new TenantProvisioningError(`tenant "${tenant}" has no key with scope "read" (npm run keys -- add --tenant ${tenant} --scope read --name grafana)`);
  return key;
}

function checkOrgs(orgs: readonly TenantOrg[]): void {
  const seen = new Map<number, string>();
  for (const { tenant, orgId } of orgs) {
    if (!Number.isInteger(orgId) || orgId < 2) throw new TenantProvisioningError(`org of tenant "${tenant}": must be an organization id >= 2 (org 1 keeps the unrestricted data source)`);
    const other = seen.get(orgId);
    if (other !== undefined) throw new TenantProvisioningError(`tenants "${other}" and "${tenant}" share organization ${orgId}: each tenant needs its own`);
    seen.set(orgId, tenant);
  }
}

/**
 * `queryTimeoutSeconds`: the plugin sends it as max_execution_time, which the tenant profile caps at
 * RAGSCOPE_SQL_TIMEOUT_SECONDS (a larger value would fail every query), so it is that setting.
 */
export function tenantDatasourceProvisioning(entries: readonly ApiKeyEntry[], orgs: readonly TenantOrg[], queryTimeoutSeconds: number) {
  checkOrgs(orgs);
  const [base] = datasourceProvisioning().datasources;
  return {
    apiVersion: 1,
    datasources: orgs.map(({ tenant, orgId }) => ({
      ...base,
      name: `${base!.name} (${tenant})`,
      orgId,
      jsonData: { ...base!.jsonData, username: keyUser(grafanaKeyOf(entries, tenant)), queryTimeout: String(queryTimeoutSeconds) },
      secureJsonData: { password: `$${tenantPasswordEnv(tenant)}` },
    })),
  };
}

export function tenantDashboardProviders(orgs: readonly TenantOrg[]) {
  checkOrgs(orgs);
  const [base] = dashboardProvider().providers;
  return { apiVersion: 1, providers: orgs.map(({ tenant, orgId }) => ({ ...base, name: `ragscope-${tenant}`, orgId })) };
}
