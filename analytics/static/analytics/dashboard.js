/* Draws the dashboard's charts with Chart.js (vendored under vendor/). The data comes from
   the <script type="application/json" id="dashboard-chart-data"> block (Django's json_script):
   nothing is evaluated, so this works under a strict Content-Security-Policy. */
(function () {
  "use strict";

  function draw() {
    var source = document.getElementById("dashboard-chart-data");
    if (!source || typeof window.Chart === "undefined") {
      return;
    }
    var charts = JSON.parse(source.textContent);
    var canvases = document.querySelectorAll("canvas[data-chart]");
    Array.prototype.forEach.call(canvases, function (canvas) {
      var spec = charts[canvas.getAttribute("data-chart")];
      if (!spec) {
        return;
      }
      var scales = spec.stacked ? { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } : { y: { beginAtZero: true } };
      new window.Chart(canvas, {
        type: spec.kind || "line",
        data: spec.data,
        options: {
          responsive: true,
          maintainAspectRatio: false,
          animation: false,
          spanGaps: true,
          scales: scales,
          plugins: { legend: { position: "bottom" } }
        }
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", draw);
  } else {
    draw();
  }
})();
