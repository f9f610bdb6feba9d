// 設定 › 通知の設定: ticking デスクトップ通知 asks the browser for permission (only then, never on
// load). Refused or unsupported: the box is unticked again and the reason is said beside it.
(function () {
  "use strict";
  var box = document.getElementById("pref-desktop");
  var state = document.getElementById("pref-desktop-state");
  if (!box || !state) { return; }

  function say(text) { state.textContent = text; }

  function describe() {
    if (!("Notification" in window)) {
      say("このブラウザーはデスクトップ通知に対応していません。");
    } else if (Notification.permission === "denied") {
      say("ブラウザーの設定でこのサイトの通知が「ブロック」になっています。使うにはブラウザーのサイト設定で許可してください。");
    } else if (box.checked && Notification.permission === "granted") {
      say("このブラウザーでは表示が許可されています。");
    } else {
      say("");
    }
  }

  box.addEventListener("change", function () {
    if (!box.checked) { describe(); return; }
    if (!("Notification" in window) || Notification.permission === "denied") {
      box.checked = false;
      describe();
      return;
    }
    if (Notification.permission === "granted") { describe(); return; }
    say("ブラウザーが表示の許可を尋ねています。");
    Promise.resolve(Notification.requestPermission()).then(function (answer) {
      if (answer !== "granted") { box.checked = false; }
      describe();
    });
  });
  describe();
})();
