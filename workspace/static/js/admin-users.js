// 職員 (LDAP backend): when 「今すぐ同期」 ends, the page's 最後の同期 and 結果 show that run
// (admin-jobs.js draws the progress bar and sends "job:shown" for every state it shows).
(function () {
  "use strict";
  var panel = document.querySelector('.job-panel[data-job-kind="directory.sync"]');
  if (!panel) { return; }
  var when = document.getElementById("last-sync-time");
  var what = document.getElementById("last-sync-result");

  function wareki(iso) {
    var parts = {};
    new Intl.DateTimeFormat("ja-JP-u-ca-japanese", {
      era: "long", year: "numeric", month: "numeric", day: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23", timeZone: "Asia/Tokyo"
    }).formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.era + parts.year + "年" + parts.month + "月" + parts.day + "日 " + parts.hour + ":" + parts.minute;
  }

  panel.addEventListener("job:shown", function (event) {
    var job = event.detail;
    if (job.state === "done" && job.result) {
      var r = job.result;
      what.textContent = "追加 " + r.created + "人・更新 " + r.updated + "人・無効化 " + r.deactivated + "人";
      panel.querySelector(".job-text").textContent =
        "名簿の同期：完了 ― 追加 " + r.created + "人・更新 " + r.updated + "人・無効化 " + r.deactivated + "人";
    } else if (job.state === "failed") {
      what.textContent = "失敗しました（ディレクトリに接続できませんでした）";
    } else {
      return;
    }
    if (job.finished_at) { when.textContent = wareki(job.finished_at); }
  });
}());
