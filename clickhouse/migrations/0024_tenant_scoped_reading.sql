-- Tenant-scoped reading (docs/tenancy.md): the raw tables carry the tenant of the API key that sent each span
-- and log record, like genai_spans and the rollups, so a tenant's reads of them can be filtered too (a row
-- policy in server mode, the processor's tenant filter in embedded mode). Rows stored before this migration
-- belong to the default tenant (RAGSCOPE_TENANT at the time of the upgrade). The column goes last in the row
-- (its place in the sort key would need a rewrite of the table); filters on it read every granule of the
-- time range asked for, which the trace page and the dashboards bound anyway.
ALTER TABLE otel_traces ADD COLUMN IF NOT EXISTS TenantId LowCardinality(String) DEFAULT '${DEFAULT_TENANT}';
ALTER TABLE otel_logs ADD COLUMN IF NOT EXISTS TenantId LowCardinality(String) DEFAULT '${DEFAULT_TENANT}';
