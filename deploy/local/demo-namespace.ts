// Imported first by demo.ts: each demo run gets topics, groups and Redis keys of its own, so a second
// run never sees the first one's events as duplicates (shared/namespace.ts reads it at load time).
if (!process.env.HUB_NAMESPACE) {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  process.env.HUB_NAMESPACE = `demo-${stamp}`;
}
