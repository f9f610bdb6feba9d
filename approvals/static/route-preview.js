// The draft form's route preview: when the 種別 or 金額 changes, fetch the diagram the server draws
// (the same template as the detail page) and swap it in. Without JavaScript the form still works;
// the preview then shows the route for the values the page was drawn with.
(function () {
  "use strict";
  var form = document.querySelector("form.approval-form");
  var box = document.getElementById("route-preview");
  if (!form || !box) return;
  var route = form.querySelector("#route");
  var amount = form.querySelector("#amount");
  var timer = null;
  var latest = 0;

  function refresh() {
    var ticket = ++latest;
    var params = new URLSearchParams({ route: route.value, amount: amount.value });
    form.querySelectorAll("fieldset.consult-picker:not([hidden]) input:checked").forEach(function (box) {
      params.append(box.name, box.value);
    });
    fetch(box.dataset.url + "?" + params.toString(), { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        if (ticket === latest) box.innerHTML = html; // server-rendered, escaped by Jinja
      })
      .catch(function () {
        if (ticket === latest) box.textContent = "決裁ルートのプレビューを表示できません。";
      });
  }

  route.addEventListener("change", refresh);
  form.addEventListener("change", function (event) {
    if (event.target.closest("fieldset.consult-picker")) refresh();
  });
  amount.addEventListener("input", function () {
    clearTimeout(timer);
    timer = setTimeout(refresh, 300);
  });
})();
