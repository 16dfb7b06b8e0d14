// The charts of /statistics, drawn by the vendored Chart.js (static/vendor/chartjs) from the JSON block
// <script type="application/json" id="stat-data"> the page carries (CSP: no inline script). The tables under each
// chart hold the same numbers for screen readers and for copying.
(function () {
  "use strict";
  var source = document.getElementById("stat-data");
  if (!source || typeof window.Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var font = "'Noto Sans CJK SC','PingFang SC','Microsoft YaHei',sans-serif";
  window.Chart.defaults.font.family = font;
  window.Chart.defaults.font.size = 13;
  window.Chart.defaults.color = "#222";

  function dataset(spec, line) {
    return {
      label: spec.label,
      data: spec.data,
      backgroundColor: spec.color,
      borderColor: spec.color,
      borderWidth: line ? 2 : 1,
      maxBarThickness: 64,
      fill: false,
      tension: 0
    };
  }

  function draw(spec) {
    var canvas = document.getElementById(spec.id);
    if (!canvas) {
      return;
    }
    var line = spec.type === "line";
    var chart = new window.Chart(canvas, {
      type: spec.type,
      data: {labels: spec.labels, datasets: spec.datasets.map(function (d) { return dataset(d, line); })},
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        plugins: {legend: {position: "bottom", labels: {boxWidth: 14}}},
        scales: {
          x: {stacked: spec.stacked},
          y: {stacked: spec.stacked, beginAtZero: true, ticks: {precision: 0}}
        }
      }
    });
    canvas.setAttribute("data-drawn", String(chart.data.datasets.length));
  }

  data.charts.forEach(draw);
  document.documentElement.setAttribute("data-charts", String(data.charts.length));
})();
