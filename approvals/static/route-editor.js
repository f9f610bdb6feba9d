// The 決裁ルート editor (templates/approvals/admin_route_edit.html). The form works without this
// script: every button posts it back. With it, (1) each 承認者 row shows only the boxes of its
// 「指定の仕方」, (2) changing a step's 種類 shows the parts of that kind (合議の方法, 上限額 …) in
// place, without reloading (moving through the list by keyboard changes nothing else), and (3) while
// one types, the form is sent to POST /admin/routes/check, and the server's messages are put next to
// their fields and its diagram under the form. The rules are the server's only; nothing here decides what is valid.
(function () {
  "use strict";
  var form = document.getElementById("route-editor");
  if (!form) return;
  var diagram = document.getElementById("editor-diagram");
  var status = document.getElementById("editor-diagram-status");
  var summary = document.getElementById("editor-summary");
  var timer = null;
  var latest = 0;

  function showFields(row) {
    var type = row.querySelector("[data-rule-type]").value;
    row.querySelectorAll("[data-shows]").forEach(function (field) {
      field.hidden = field.dataset.shows.split(" ").indexOf(type) < 0;
    });
  }

  function showProblems(problems) {
    form.querySelectorAll("[data-error-for]").forEach(function (line) {
      line.textContent = "";
    });
    form.querySelectorAll("[aria-invalid]").forEach(function (field) {
      field.removeAttribute("aria-invalid");
    });
    problems.forEach(function (problem) {
      var line = document.getElementById(problem.field + "-error");
      var field = document.getElementById(problem.field);
      if (line) {
        line.textContent = line.textContent ? line.textContent + " " + problem.message : problem.message;
      }
      if (field && field.tagName !== "FIELDSET") field.setAttribute("aria-invalid", "true");
    });
    if (!problems.length && summary) summary.hidden = true;
  }

  function check() {
    var ticket = ++latest;
    var data = new FormData(form);
    data.delete("op");
    fetch(form.dataset.checkUrl, { method: "POST", body: data, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.json();
      })
      .then(function (answer) {
        if (ticket !== latest) return;
        showProblems(answer.problems);
        if (answer.ok) {
          diagram.innerHTML = answer.diagram; // rendered and escaped by the server's template
          status.textContent = "いまの内容で描いた図です。";
        } else {
          diagram.innerHTML = "";
          status.textContent = "誤りが" + answer.problems.length + "件あります。各欄の下のメッセージを確かめてください。";
        }
      })
      .catch(function () {
        if (ticket === latest) status.textContent = "内容を確かめられませんでした。保存すると確かめます。";
      });
  }

  function later() {
    clearTimeout(timer);
    timer = setTimeout(check, 400);
  }

  form.querySelectorAll("[data-rule-row]").forEach(showFields);
  form.querySelectorAll("[data-kind-apply]").forEach(function (button) {
    button.hidden = true; // the parts of the chosen 種類 are shown in place instead
  });

  function showKind(select) {
    var step = select.closest("fieldset.route-step-edit");
    var kind = select.value;
    step.querySelectorAll("[data-kinds]").forEach(function (part) {
      part.hidden = part.dataset.kinds.split(" ").indexOf(kind) < 0;
    });
    var label = step.querySelector("[data-kind-label]");
    if (label) label.textContent = select.options[select.selectedIndex].text;
  }

  form.addEventListener("change", function (event) {
    var target = event.target;
    if (target.matches("[data-step-kind]")) showKind(target);
    if (target.matches("[data-rule-type]")) showFields(target.closest("[data-rule-row]"));
    later();
  });
  form.addEventListener("input", later);
  form.dataset.ready = "1"; // the live check listens from here on
})();
