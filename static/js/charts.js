/* Draws every <canvas data-chart="ID"> from the JSON in <script id="ID" type="application/json">
   (Django's json_script), with the vendored Chart.js. Amounts show as Rp1.500.000. */
(function () {
  "use strict";
  var palette = ["#0b5394", "#e69138", "#6aa84f", "#cc0000", "#674ea7", "#45818e", "#bf9000", "#a64d79", "#999999"];
  function rupiah(value) {
    return "Rp" + Math.round(value).toString().replace(/\B(?=(\d{3})+(?!\d))/g, ".");
  }
  function draw(canvas) {
    var spec = JSON.parse(document.getElementById(canvas.dataset.chart).textContent);
    var round = spec.kind === "doughnut";
    var datasets = spec.datasets.map(function (d, i) {
      var color = round ? spec.labels.map(function (_, j) { return palette[j % palette.length]; }) : palette[i % palette.length];
      return Object.assign({ backgroundColor: color, borderColor: round ? "#fff" : color }, d);
    });
    var ticks = spec.money ? { callback: function (v) { return rupiah(v); } } : { precision: 0 };
    new window.Chart(canvas, {
      type: spec.kind,
      data: { labels: spec.labels, datasets: datasets },
      options: {
        locale: "id-ID", // 7.000 on the axes, whatever language the browser asks for
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: {
          legend: { position: "bottom", labels: { boxWidth: 12 } },
          tooltip: spec.money ? { callbacks: { label: function (c) { return c.dataset.label + ": " + rupiah(c.parsed.y); } } } : {}
        },
        scales: round ? {} : { x: { stacked: spec.stacked }, y: { stacked: spec.stacked, beginAtZero: true, ticks: ticks } }
      }
    });
  }
  function init() {
    if (!window.Chart) { return; }
    document.querySelectorAll("canvas[data-chart]").forEach(draw);
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", init); } else { init(); }
}());
