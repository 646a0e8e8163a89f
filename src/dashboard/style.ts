// The dashboard's stylesheet.
export const STYLE_CSS = `
* { box-sizing: border-box; }
body { margin: 0; font: 13px/1.4 system-ui, sans-serif; color: #222; background: #fafafa; }
header { display: flex; gap: 16px; align-items: baseline; padding: 10px 16px; background: #1c2430; color: #eee; }
header h1 { font-size: 16px; margin: 0; }
header .muted { color: #aab; }
.live::before { content: "\\25CF "; color: #3c3; }
.live.stale::before { color: #c33; }
main { display: flex; gap: 16px; padding: 12px 16px; align-items: flex-start; }
#left { flex: 1 1 520px; min-width: 420px; }
#right { flex: 0 0 740px; }
.filters { display: flex; gap: 6px; margin-bottom: 8px; }
.filters input, .filters select { padding: 4px 6px; font: inherit; }
table { border-collapse: collapse; width: 100%; background: #fff; }
th, td { text-align: left; padding: 3px 6px; border-bottom: 1px solid #e4e4e4; vertical-align: top; }
th { background: #f0f0f0; font-weight: 600; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.selected td { background: #eef5ff; }
a.run { color: #1858b8; cursor: pointer; text-decoration: underline; font-family: ui-monospace, monospace; }
.status-running { color: #1a7f37; font-weight: 600; }
.status-failed, .status-killed { color: #b42318; }
.muted { color: #777; }
#chart { background: #fff; border: 1px solid #ddd; display: block; box-sizing: content-box; }
#chart .axis { stroke: #999; stroke-width: 1; }
#chart .grid { stroke: #eee; stroke-width: 1; }
#chart text { font-size: 11px; fill: #555; }
.chart-head { display: flex; gap: 12px; align-items: center; margin-bottom: 6px; flex-wrap: wrap; }
.swatch { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; border-radius: 2px; }
#details, #data-reports { margin-top: 12px; }
h2 { font-size: 14px; margin: 14px 0 6px; }
h3 { font-size: 13px; margin: 10px 0 4px; }
pre { background: #fff; border: 1px solid #e4e4e4; padding: 8px; overflow: auto; max-height: 320px; font-size: 12px; }
.pairs td:first-child { color: #555; white-space: nowrap; }
.warn { color: #9a6700; }
`;
