// The dashboard's charts, drawn from the JSON the page carries (no inline script: the CSP forbids it).
// Every chart has its table beside it; the charts only draw what the tables already say.
(function () {
  "use strict";

  function ready(fn) {
    if (document.readyState !== "loading") fn();
    else document.addEventListener("DOMContentLoaded", fn);
  }

  var palette = ["#b42318", "#dc6803", "#1570ef", "#039855", "#7a5af8", "#667085", "#e31b54", "#0e9384"];

  function draw(id, option) {
    var node = document.getElementById(id);
    if (!node || typeof echarts === "undefined") return null;
    var chart = echarts.init(node, null, { renderer: "svg" });
    option.color = palette;
    option.animation = false;
    chart.setOption(option);
    window.addEventListener("resize", function () { chart.resize(); });
    window.addEventListener("beforeprint", function () { chart.resize(); });
    return chart;
  }

  function bars(labels, series, horizontal) {
    var category = { type: "category", data: labels, axisLabel: { interval: 0, fontSize: 11 } };
    var value = { type: "value", minInterval: 1 };
    return {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
      xAxis: horizontal ? value : category,
      yAxis: horizontal ? category : value,
      series: series
    };
  }

  ready(function () {
    var printButton = document.getElementById("print-button");
    if (printButton) printButton.addEventListener("click", function () { window.print(); });
    var source = document.getElementById("chart-data");
    if (!source) return;
    var data = JSON.parse(source.textContent);
    // a category with no household is no slice (ECharts would draw "0户" labels, or equal thirds
    // when every category is empty); the table beside it still lists every category
    var slices = data.category.filter(function (d) { return d.value > 0; });
    if (slices.length) draw("chart-category", {
      tooltip: { trigger: "item", formatter: "{b}：{c}户（{d}%）" },
      legend: { bottom: 0 },
      series: [{ type: "pie", radius: ["35%", "65%"], data: slices, label: { formatter: "{b}\n{c}户" } }]
    });
    else document.getElementById("chart-category").textContent = "统计截止日期没有监测户";
    draw("chart-risk", bars(data.risk.labels, [
      { name: "风险未消除", type: "bar", stack: "r", data: data.risk.open },
      { name: "风险已消除", type: "bar", stack: "r", data: data.risk.eliminated }
    ], true));
    draw("chart-children", bars(data.children.labels, [
      { name: "风险未消除", type: "bar", stack: "c", data: data.children.open },
      { name: "风险已消除", type: "bar", stack: "c", data: data.children.eliminated }
    ], false));
    draw("chart-pipeline", {
      tooltip: { trigger: "item" },
      grid: { left: 8, right: 16, top: 24, bottom: 8, containLabel: true },  // room for the top bar's label
      xAxis: { type: "category", data: data.pipeline.labels },
      yAxis: { type: "value", minInterval: 1 },
      series: [{ type: "bar", data: data.pipeline.values, label: { show: true, position: "top" } }]
    });
    draw("chart-trend", {
      tooltip: { trigger: "axis" },
      legend: { top: 0 },
      grid: { left: 8, right: 16, top: 30, bottom: 8, containLabel: true },
      xAxis: { type: "category", data: data.trend.labels },
      yAxis: [{ type: "value", name: "户", minInterval: 1 }, { type: "value", name: "件", minInterval: 1 }],
      series: [
        // a month before the first refresh has no count: a gap, and a visible dot where one month stands alone
        { name: "月末监测户", type: "line", data: data.trend.monitored, connectNulls: false, symbolSize: 8 },
        { name: "预警推送", type: "bar", yAxisIndex: 1, data: data.trend.warnings },
        { name: "识别纳入", type: "bar", yAxisIndex: 1, data: data.trend.identified },
        { name: "风险消除", type: "bar", yAxisIndex: 1, data: data.trend.eliminated }
      ]
    });
  });
})();
