// The dashboard's only script (the CSP allows no inline script): draws the demand chart and the
// supplier price chart with uPlot from the data the server put in the chart element's
// `data-series` attribute (`data-labels` and `data-axis` name the series and the axis).
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
    var labels = ["Demand", "Forecast", "Lower", "Upper", "Minimum"];
    if (el.dataset.labels) {
      try {
        labels = JSON.parse(el.dataset.labels);
      } catch (e) {}
    }
    var width = Math.max(320, el.clientWidth || 800);
    var opts = {
      width: width,
      height: 320,
      scales: { x: { time: true } },
      series: [
        { label: "Day" },
        { label: labels[0], stroke: "#57606a", width: 1 },
        { label: labels[1], stroke: "#0969da", width: 2 },
        { label: labels[2], stroke: "rgba(9,105,218,0.35)", width: 1 },
        { label: labels[3], stroke: "rgba(9,105,218,0.35)", width: 1 },
        { label: labels[4], stroke: "#cf222e", width: 2, dash: [6, 4] },
      ],
      // The forecast interval: the band between the upper and the lower series.
      bands: [{ series: [4, 3], fill: "rgba(9,105,218,0.12)" }],
      axes: [{}, { label: el.dataset.axis || "units per day" }],
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
