// 監査ログ (templates/workspace/admin/audit.html): when the 改ざん検証 job ends while the page is open,
// say how it ended in words (正常 / 異常) and link the first bad entry, as the server draws it on load.
(function () {
  "use strict";
  var box = document.getElementById("verify-result");
  if (!box) { return; }
  document.addEventListener("job:shown", function (event) {
    var job = event.detail;
    if (!job || job.kind !== "audit.verify") { return; }
    if (job.state !== "done") { if (job.state !== "failed") { box.textContent = ""; } return; }
    var r = job.result || {};
    var p = document.createElement("p");
    var word = document.createElement("span");
    word.className = "state-word";
    var checked = (r.checked || 0).toLocaleString("ja-JP");
    if (r.ok) {
      p.className = "state state-ok";
      word.textContent = "正常";
      p.appendChild(word);
      p.appendChild(document.createTextNode(" " + checked + "件の記録を確かめました。改ざんは見つかりませんでした。"));
    } else {
      p.className = "state state-error";
      word.textContent = "異常";
      p.appendChild(word);
      p.appendChild(document.createTextNode(" " + (r.problem_label || "記録のつながりが切れています") + "。" +
        checked + "件目までは正常でした。"));
      if (r.entry_id) {
        var a = document.createElement("a");
        a.href = box.dataset.entryUrl + r.entry_id;
        a.textContent = "最初に問題のある記録（番号" + r.entry_id + "）を見る";
        p.appendChild(a);
      }
    }
    box.textContent = "";
    box.appendChild(p);
  });
}());
