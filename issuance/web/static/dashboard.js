// The dashboard's charts: Chart.js draws each <canvas data-chart> from the JSON the server put there,
// on load and again each time htmx swaps in fresh figures (no inline script: the CSP forbids it).
"use strict";
(() => {
  function draw(canvas) {
    const old = window.Chart.getChart(canvas);
    if (old) old.destroy();
    const data = JSON.parse(canvas.dataset.chart);
    const rtl = document.documentElement.dir === "rtl";
    new window.Chart(canvas, {
      type: "bar",
      data: {
        labels: data.labels,
        datasets: data.datasets.map((ds) => ({
          label: ds.label, data: ds.data, backgroundColor: ds.colour, borderColor: ds.colour,
        })),
      },
      options: {
        animation: false,
        maintainAspectRatio: false,
        scales: {
          x: { stacked: false, reverse: rtl },
          y: { beginAtZero: true, ticks: { precision: 0 }, position: rtl ? "right" : "left" },
        },
        plugins: { legend: { rtl, position: "bottom" }, tooltip: { rtl } },
      },
    });
  }

  function drawAll(root) {
    if (!window.Chart) return;
    root.querySelectorAll("canvas[data-chart]").forEach(draw);
  }

  document.addEventListener("DOMContentLoaded", () => drawAll(document));
  document.addEventListener("htmx:afterSettle", () => drawAll(document));
})();
