// 差戻し, 却下, 取下げ, 引戻し and 削除 open a dialog (the page's <dialog> elements) instead of acting at
// once: the reason is asked for where one is needed, and the person confirms. Without JavaScript the
// buttons post the form directly, and the server still refuses a 差戻し or 却下 without a reason.
(function () {
  "use strict";
  var comment = document.getElementById("comment");
  document.querySelectorAll("[data-dialog]").forEach(function (button) {
    var dialog = document.getElementById(button.dataset.dialog);
    if (!dialog || typeof dialog.showModal !== "function") return;
    button.addEventListener("click", function (event) {
      event.preventDefault();
      var field = dialog.querySelector("textarea");
      if (field && comment && comment.value && !field.value) field.value = comment.value;
      dialog.showModal();
      (field || dialog.querySelector("button[type=submit]")).focus();
    });
    // The browser's own "fill out this field" bubble speaks the browser's language; say it in ours.
    dialog.querySelectorAll("textarea[required]").forEach(function (field) {
      field.addEventListener("invalid", function () {
        field.setCustomValidity(field.dataset.missing || "理由を入力してください。");
      });
      field.addEventListener("input", function () { field.setCustomValidity(""); });
    });
    dialog.querySelector(".dialog-cancel").addEventListener("click", function () {
      dialog.close();
      button.focus();
    });
  });
})();
