import type { Dashboard } from '@grafana/grafana-foundation-sdk/dashboard';
import { overviewDashboard } from './overview.js';
import { latencyDashboard } from './latency.js';
import { tokensCostDashboard } from './tokens-cost.js';
import { retrievalDashboard } from './retrieval.js';
import { feedbackDashboard } from './feedback.js';
import { experimentsDashboard } from './experiments.js';
import { usageDashboard } from './usage.js';
import { conversationsDashboard } from './conversations.js';

/** Every provisioned dashboard, in the order of the dashboards dropdown. */
export function allDashboards(): Dashboard[] {
  return [
    overviewDashboard(),
    latencyDashboard(),
    tokensCostDashboard(),
    retrievalDashboard(),
    feedbackDashboard(),
    experimentsDashboard(),
    usageDashboard(),
    conversationsDashboard(),
  ];
}
