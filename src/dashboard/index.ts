// ingot.dashboard: a local web page over the run store (runs table, live metric charts, model cards,
// compression, data-quality and profile reports), served by fastify with a read-only JSON API.
export { createDashboard, type Dashboard, type DashboardOptions, type RunRow } from "./server.js";
export { profileSummary, type ProfileSummary, type ProfileRow } from "./profile-summary.js";
