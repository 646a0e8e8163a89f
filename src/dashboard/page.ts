// The dashboard's one page. Everything it loads comes from this server (no CDN, no framework).
export const PAGE_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Ingot dashboard</title>
<link rel="stylesheet" href="/style.css">
</head>
<body>
<header>
  <h1>Ingot dashboard</h1>
  <span id="db" class="muted"></span>
  <span id="live" class="live" title="the page polls the run store">live</span>
</header>
<main>
  <section id="left">
    <div class="filters">
      <select id="f-status" aria-label="status">
        <option value="">any status</option>
        <option value="running">running</option>
        <option value="finished">finished</option>
        <option value="failed">failed</option>
        <option value="killed">killed</option>
      </select>
      <input id="f-q" type="search" placeholder="name, recipe, id, dataset" aria-label="name filter">
      <input id="f-tag" type="search" placeholder="tag (kind or config.tags)" aria-label="tag filter">
    </div>
    <p id="note" class="muted"></p>
    <table id="runs">
      <thead><tr><th></th><th>id</th><th>name</th><th>kind</th><th>status</th><th>started</th><th>metrics</th></tr></thead>
      <tbody></tbody>
    </table>
  </section>
  <section id="right">
    <div class="chart-head">
      <label>metric <select id="metric" aria-label="metric"></select></label>
      <span id="legend"></span>
    </div>
    <svg id="chart" width="720" height="340" viewBox="0 0 720 340" role="img" aria-label="metric chart"></svg>
    <div id="details"><p class="muted">Tick runs to chart them; click an id for its details (config, metrics, model card, compression, data and profile reports).</p></div>
    <div id="data-reports"></div>
  </section>
</main>
<script src="/app.js"></script>
</body>
</html>
`;
