// 管理 › チャンネル › 発言の書き出し (templates/chat/admin_export.html): follows the newest export job
// live (Socket.IO "job:progress") and by asking its URL every two seconds, and shows the download
// link when the file is ready. The job is started by the page's form (it carries the criteria).
(function () {
  "use strict";
  var ws = window.workspace;
  var panel = document.querySelector(".export-job");
  if (!panel) { return; }
  var bar = panel.querySelector(".job-progress");
  var text = panel.querySelector(".job-text");
  var download = panel.querySelector(".export-download");
  var timer = null;

  function running(job) { return job.state === "queued" || job.state === "running"; }

  function show(job) {
    if (String(job.id) !== panel.dataset.jobId) { return; }
    panel.dataset.jobState = job.state;
    bar.hidden = !running(job);
    bar.value = job.progress;
    var words = job.label + "：" + job.state_label;
    if (running(job)) {
      words += "（" + Math.round(job.progress * 100) + "%）";
      if (job.message) { words += " ― " + job.message; }
    } else if (job.state === "done" && job.result) {
      words += "（" + Number(job.result.messages || 0).toLocaleString("ja-JP") + "件）";
    }
    if (job.error) { words += " ― " + job.error; }
    text.textContent = words;
    if (job.state === "done") {
      download.querySelector("a").href = panel.dataset.fileUrl + job.id + "/file";
      download.hidden = false;
    }
    if (!running(job) && timer) { window.clearInterval(timer); timer = null; }
  }

  if (panel.dataset.jobId && running({ state: panel.dataset.jobState })) {
    timer = window.setInterval(function () {
      fetch(panel.dataset.jobUrl + panel.dataset.jobId, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (job) { if (job) { show(job); } });
    }, 2000);
  }
  if (ws && ws.socket) {
    ws.socket.on("job:progress", function (job) { if (job && job.kind === "chat.export") { show(job); } });
  }
}());
