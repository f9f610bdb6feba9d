// The 文書分類 picker shared by the registry and 起案 forms (templates/_classification_picker.html):
// fills each select[data-classification-picker] from GET /api/v1/classifications, grouped by
// 大分類 with 中分類 › 小分類 as options, and sets the form's 保存年限 to the chosen 分類's default.
(function () {
  "use strict";
  var pickers = document.querySelectorAll("select[data-classification-picker]");
  if (!pickers.length) { return; }

  function retentionText(value) {
    return value === "permanent" ? "永年" : value + "年";
  }

  function fill(select, table) {
    var current = select.dataset.value || "";
    var byCode = {};
    var children = {};
    table.forEach(function (c) {
      byCode[c.code] = c;
      if (c.parent) { (children[c.parent] = children[c.parent] || []).push(c); }
    });
    // Keep the first option (選択しない); the placeholder of the current value is replaced.
    while (select.options.length > 1) { select.remove(1); }
    table.filter(function (c) { return c.level === 1 || !c.parent; }).forEach(function (top) {
      var group = document.createElement("optgroup");
      group.label = top.code + " " + top.name;
      var leaves = [];
      (function walk(node, path) {
        var kids = children[node.code] || [];
        if (!kids.length) { leaves.push({ item: node, path: path }); return; }
        kids.forEach(function (k) { walk(k, path.concat([k.name])); });
      })(top, [top.name]);
      leaves.forEach(function (leaf) {
        var c = leaf.item;
        var option = document.createElement("option");
        option.value = c.code;
        option.dataset.retention = String(c.retention_years);
        var name = leaf.path.join(" › ");
        option.textContent = c.code + " " + name + "（" + retentionText(c.retention_years) + "）";
        if (c.code === current) { option.selected = true; }
        group.appendChild(option);
      });
      select.appendChild(group);
    });
    if (current && !byCode[current]) {
      // A value drafted before the table had it (free text): kept, so saving does not lose it.
      var kept = document.createElement("option");
      kept.value = current;
      kept.textContent = current;
      kept.selected = true;
      select.appendChild(kept);
    }
    select.dataset.ready = "1";
  }

  function applyRetention(select) {
    var option = select.options[select.selectedIndex];
    var target = select.form && select.form.elements[select.dataset.retentionTarget];
    if (!option || !option.dataset.retention || !target) { return; }
    var value = option.dataset.retention === "permanent" ? select.dataset.permanentValue : option.dataset.retention;
    for (var i = 0; i < target.options.length; i++) {
      if (target.options[i].value === value) { target.value = value; return; }
    }
  }

  fetch("/api/v1/classifications", { credentials: "same-origin", headers: { Accept: "application/json" } })
    .then(function (r) { return r.ok ? r.json() : []; })
    .then(function (table) {
      pickers.forEach(function (select) {
        fill(select, table);
        select.addEventListener("change", function () { applyRetention(select); });
      });
    })
    .catch(function () { /* the select keeps its current value; the form still works */ });
})();
