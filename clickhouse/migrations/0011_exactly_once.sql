-- Exactly-once storage (store/shipper.ts): every insert carries a deterministic insert_deduplication_token, and
-- each table keeps the hashes of its last 1000 inserted blocks, so a block inserted again (a replay after a
-- crash, a retry after a lost answer) is dropped, in the table and, with
-- deduplicate_blocks_in_dependent_materialized_views, in every rollup fed from it. Replicated tables (server
-- mode on a cluster) keep such a window by default (replicated_deduplication_window).
-- Costs move to Decimal(38, 12): Decimal(18, 12) stops below 1,000,000 USD, and one span reporting such a cost
-- (or 1e12 tokens) made the whole insert fail.
ALTER TABLE otel_traces MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE otel_traces_trace_id_ts MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE otel_logs MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE genai_spans MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE usage_cost_hourly MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE usage_cost_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE latency_hourly MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE request_rollup MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE retrieval_quality_hourly MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE query_patterns_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE feedback MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE response_lookup MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE evaluations MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE evaluations_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE prediction_outcomes_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE errors_hourly MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE user_usage_daily MODIFY SETTING non_replicated_deduplication_window = 1000;
ALTER TABLE genai_spans
    MODIFY COLUMN CostUSD Nullable(Decimal(38, 12)),
    MODIFY COLUMN CostInputUSD Nullable(Decimal(38, 12)),
    MODIFY COLUMN CostCacheReadUSD Nullable(Decimal(38, 12)),
    MODIFY COLUMN CostCacheWriteUSD Nullable(Decimal(38, 12)),
    MODIFY COLUMN CostOutputUSD Nullable(Decimal(38, 12)),
    MODIFY COLUMN CostReasoningUSD Nullable(Decimal(38, 12));
