// Draws the dashboard's charts from the figures the page carries beside each table
// (data-chart-data on each canvas); the tables hold the same figures for screen readers.
(function () {
  "use strict";

  if (typeof Chart === "undefined") {
    return; // the tables remain
  }
  // Colours that keep their contrast on white and between neighbours (Okabe–Ito).
  const PALETTE = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"];
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  const direction = document.documentElement.dir === "rtl" ? "rtl" : "ltr";
  const numbers = new Intl.NumberFormat(document.documentElement.lang || undefined);

  document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
    const type = canvas.dataset.chart;
    const figures = JSON.parse(canvas.dataset.chartData);
    const round = type === "doughnut";
    const datasets = figures.series.map((series, index) => {
      const colour = PALETTE[index % PALETTE.length];
      return {
        label: series.label,
        data: series.data,
        backgroundColor: round ? figures.labels.map((_, i) => PALETTE[i % PALETTE.length]) : colour,
        borderColor: round ? "#ffffff" : colour,
        borderWidth: type === "line" ? 2 : 1,
        tension: 0.2,
      };
    });
    // Many categories read better as horizontal bars; time always runs along the bottom.
    const horizontal = type === "bar" && canvas.dataset.axis !== "time" && figures.labels.length > 8;
    new Chart(canvas, {
      type,
      data: { labels: figures.labels, datasets },
      options: {
        animation: reduceMotion ? false : { duration: 300 },
        maintainAspectRatio: false,
        indexAxis: horizontal ? "y" : "x",
        locale: document.documentElement.lang || undefined,
        plugins: {
          legend: { display: datasets.length > 1 || round, rtl: direction === "rtl" },
          tooltip: {
            rtl: direction === "rtl",
            callbacks: {
              label: (item) => `${item.dataset.label}: ${numbers.format(item.raw)}`,
            },
          },
        },
        scales: round
          ? {}
          : {
              x: { reverse: direction === "rtl" && !horizontal, beginAtZero: true, ticks: { precision: 0 } },
              y: { beginAtZero: true, ticks: { precision: 0 } },
            },
      },
    });
  });
})();
