// The dashboard's only script (the CSP allows no inline script): draws the demand chart with
// uPlot from the data the server put in the chart element's `data-series` attribute.
"use strict";
(function () {
  function drawChart(el) {
    if (typeof uPlot === "undefined" || el.dataset.drawn) return;
    var data;
    try {
      data = JSON.parse(el.dataset.series);
    } catch (e) {
      el.textContent = "The chart data could not be read.";
      return;
    }
    el.dataset.drawn = "1";
    var width = Math.max(320, el.clientWidth || 800);
    var opts = {
      width: width,
      height: 320,
      scales: { x: { time: true } },
      series: [
        { label: "Day" },
        { label: "Demand", stroke: "#57606a", width: 1 },
        { label: "Forecast", stroke: "#0969da", width: 2 },
        { label: "Lower", stroke: "rgba(9,105,218,0.35)", width: 1 },
        { label: "Upper", stroke: "rgba(9,105,218,0.35)", width: 1 },
        { label: "Minimum", stroke: "#cf222e", width: 2, dash: [6, 4] },
      ],
      // The forecast interval: the band between the upper and the lower series.
      bands: [{ series: [4, 3], fill: "rgba(9,105,218,0.12)" }],
      axes: [{}, { label: "units per day" }],
    };
    var plot = new uPlot(opts, data, el);
    window.addEventListener("resize", function () {
      plot.setSize({ width: Math.max(320, el.clientWidth), height: 320 });
    });
  }

  function init() {
    document.querySelectorAll("[data-series]").forEach(drawChart);
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
