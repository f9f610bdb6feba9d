// File inputs in Japanese on any browser: the native control's own words (「Choose File / No file
// chosen」 on an English browser) are the browser's, not ours. Each file input gets a button
// 「ファイルを選択」 and a line naming the chosen files; the input itself stays in the form (it is
// what is submitted, and what a <label for> and the tests address) but is drawn off screen.
(function () {
  "use strict";
  function enhance(input) {
    if (input.dataset.enhanced) { return; }
    input.dataset.enhanced = "1";
    var button = document.createElement("button");
    button.type = "button";
    button.className = "file-button";
    button.textContent = input.multiple ? "ファイルを選択（複数可）" : "ファイルを選択";
    var status = document.createElement("span");
    status.className = "file-status";
    status.id = (input.id || "file") + "-chosen";
    status.setAttribute("aria-live", "polite");
    // The field's visible <label> stays the input's (and is read just before the button); the button
    // is named by its own words, so "get by label" still finds the one input.
    button.setAttribute("aria-describedby", [status.id, input.getAttribute("aria-describedby") || ""].join(" ").trim());
    function show() {
      var names = Array.prototype.map.call(input.files || [], function (f) { return f.name; });
      status.textContent = names.length ? names.join("、") : "ファイルが選択されていません";
    }
    button.addEventListener("click", function () { input.click(); });
    input.addEventListener("change", show);
    input.form && input.form.addEventListener("reset", function () { setTimeout(show, 0); });
    input.classList.add("file-native");
    input.tabIndex = -1;
    var wrap = document.createElement("span");
    wrap.className = "file-picker";
    input.parentNode.insertBefore(wrap, input);
    wrap.appendChild(input);
    wrap.appendChild(button);
    wrap.appendChild(status);
    show();
  }
  function all() { document.querySelectorAll('input[type="file"]').forEach(enhance); }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", all); } else { all(); }
  window.workspaceFileInputs = { enhance: enhance };
})();
