// What the pages share: the campaigns joined to their dimensions, filter choices, money.
// (No imports: Framework resolves a local module's bare imports from the npm CDN, not node_modules.)

export function campaignsWithDimensions(performance, dimensions) {
  const byId = new Map(dimensions.map((d) => [d.campaign_id, d]));
  return performance.map((c) => ({
    ...c,
    audience_name: byId.get(c.campaign_id)?.audience_name ?? c.audience_id,
    campaign_type: byId.get(c.campaign_id)?.campaign_type ?? "unknown",
    sent_month: c.sent_at ? c.sent_at.slice(0, 7) : "not sent"
  }));
}

export function pick(rows, column) {
  return ["All", ...[...new Set(rows.map((r) => r[column]))].sort()];
}

const dollars = new Intl.NumberFormat("en-US", {style: "currency", currency: "USD", maximumFractionDigits: 0});
export const money = (value) => dollars.format(value ?? 0);
