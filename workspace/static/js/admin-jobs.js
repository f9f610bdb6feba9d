// 管理's background jobs (templates/workspace/admin/_job.html): the start button posts to the job's
// start URL, and the panel follows the job live (Socket.IO "job:progress") and by asking its URL
// every two seconds (a socket that missed an event, a job another administrator started). Closing
// the page does not stop the job: it runs on the server; opening the page again shows where it is.
(function () {
  "use strict";
  var ws = window.workspace;
  var panels = document.querySelectorAll(".job-panel");
  if (!ws || !panels.length) { return; }

  function show(panel, job) {
    var bar = panel.querySelector(".job-progress");
    var text = panel.querySelector(".job-text");
    var button = panel.querySelector(".job-start");
    var running = job.state === "queued" || job.state === "running";
    panel.dataset.jobId = job.id;
    panel.dataset.jobState = job.state;
    bar.hidden = !running;
    bar.value = job.progress;
    button.disabled = running;
    var words = job.label + "：" + job.state_label;
    if (running) { words += "（" + Math.round(job.progress * 100) + "%）"; }
    if (job.message && running) { words += " ― " + job.message; }
    if (job.summary) { words += " ― " + job.summary; }
    if (job.error) { words += " ― " + job.error; }
    text.textContent = words;
    panel.dispatchEvent(new CustomEvent("job:shown", { detail: job, bubbles: true }));
    if (!running) { stopPolling(panel); }
  }

  function poll(panel) {
    if (panel._timer || !panel.dataset.jobId) { return; }
    panel._timer = window.setInterval(function () {
      fetch(panel.dataset.jobUrl + panel.dataset.jobId, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) { if (job) { show(panel, job); } });
    }, 2000);
  }
  function stopPolling(panel) {
    if (panel._timer) { window.clearInterval(panel._timer); panel._timer = null; }
  }

  Array.prototype.forEach.call(panels, function (panel) {
    var state = panel.dataset.jobState;
    if (state === "queued" || state === "running") { poll(panel); }
    panel.querySelector(".job-start").addEventListener("click", function () {
      if (panel.dataset.jobConfirm && !window.confirm(panel.dataset.jobConfirm)) { return; }
      var button = this;
      button.disabled = true;
      fetch(panel.dataset.jobStart, {
        method: "POST", credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": ws.csrfToken },
        body: "{}"
      }).then(function (r) {
        return r.json().then(function (data) { return { status: r.status, data: data }; });
      }).then(function (r) {
        if (r.status === 202 && r.data.job) { show(panel, r.data.job); poll(panel); return; }
        button.disabled = false;
        panel.querySelector(".job-text").textContent =
          (r.data.error && r.data.error.message) || "処理を開始できませんでした。";
      }, function () {
        button.disabled = false;
        panel.querySelector(".job-text").textContent = "サーバーに接続できませんでした。";
      });
    });
  });

  ws.socket.on("job:progress", function (job) {
    Array.prototype.forEach.call(panels, function (panel) {
      if (job && (String(job.id) === panel.dataset.jobId || job.kind === panel.dataset.jobKind)) { show(panel, job); }
    });
  });
}());
