// The dashboard's only script (the CSP allows no inline script): draws the charts with uPlot
// from the data the server put in the chart element's `data-series` attribute. The demand and
// supplier price charts are a series, its forecast and the forecast's interval (`data-labels`
// and `data-axis` name the series and the axis); `data-chart="stock"` is the projected stock:
// stock on hand, the minimum, and points on the run-out day and the refill's arrival.
"use strict";
(function () {
  var HEIGHT = 320;

  // As wide as its box, so a phone's screen never scrolls sideways for a chart.
  function widthOf(el) {
    return Math.max(200, el.clientWidth || 800);
  }

  // A series drawn only as a marker on the days it has a value.
  function marker(label, color) {
    return {
      label: label,
      stroke: color,
      fill: color,
      width: 0,
      paths: function () {
        return null;
      },
      points: { show: true, size: 11, fill: color, stroke: color },
    };
  }

  function forecastOptions(el, columns) {
    var labels = ["Demand", "Forecast", "Lower", "Upper"];
    if (el.dataset.labels) {
      try {
        labels = JSON.parse(el.dataset.labels);
      } catch (e) {}
    }
    var styles = [
      { stroke: "#57606a", width: 1 },
      { stroke: "#0969da", width: 2 },
      { stroke: "rgba(9,105,218,0.35)", width: 1 },
      { stroke: "rgba(9,105,218,0.35)", width: 1 },
      // A reference line (today's price).
      { stroke: "#cf222e", width: 2, dash: [6, 4] },
    ];
    var series = [{ label: "Day" }];
    for (var i = 1; i < columns; i++) {
      var s = styles[i - 1] || { stroke: "#57606a", width: 1 };
      series.push({ label: labels[i - 1], stroke: s.stroke, width: s.width, dash: s.dash });
    }
    return {
      series: series,
      // The forecast interval: the band between the upper and the lower series.
      bands: columns > 4 ? [{ series: [4, 3], fill: "rgba(9,105,218,0.12)" }] : [],
      axes: [{}, { label: el.dataset.axis || "units per day" }],
    };
  }

  function stockOptions() {
    return {
      series: [
        { label: "Day" },
        { label: "Projected stock", stroke: "#0969da", width: 2 },
        { label: "Minimum", stroke: "#cf222e", width: 2, dash: [6, 4] },
        marker("Runs out", "#cf222e"),
        marker("Refill arrives", "#1a7f37"),
      ],
      axes: [{}, { label: "units in stock" }],
    };
  }

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
    var opts = el.dataset.chart === "stock" ? stockOptions() : forecastOptions(el, data.length);
    opts.width = widthOf(el);
    opts.height = HEIGHT;
    opts.scales = { x: { time: true } };
    var plot = new uPlot(opts, data, el);
    window.addEventListener("resize", function () {
      plot.setSize({ width: widthOf(el), height: HEIGHT });
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
