// The 未処理 table: sort by a column (its header is a button; aria-sort says the order), filter by
// 種別 and text, and offer the bulk button only when every ticked item takes the same action
// (all 決裁, all 承認, all 専決 or all 代決). Rows are only reordered or hidden, never rebuilt, so
// everything shown was escaped by the server. inbox-live.js may replace the section: we re-bind.
(function () {
  "use strict";

  function setup() {
    var section = document.getElementById("inbox-pending");
    var table = document.getElementById("pending-table");
    if (!section || !table || table.dataset.bound) return;
    table.dataset.bound = "1";
    var body = table.tBodies[0];
    var filters = section.querySelector("[data-filters]");
    var kind = document.getElementById("filter-kind");
    var text = document.getElementById("filter-text");
    var count = document.getElementById("filter-count");
    var button = document.getElementById("bulk-button");
    var label = document.getElementById("bulk-label");
    var hint = document.getElementById("bulk-hint");
    if (filters) filters.hidden = false;

    function sortBy(header) {
      var key = header.querySelector("button.sort").dataset.sort;
      var numeric = header.querySelector("button.sort").dataset.numeric === "1";
      var ascending = header.getAttribute("aria-sort") !== "ascending";
      table.querySelectorAll("th[aria-sort]").forEach(function (th) { th.removeAttribute("aria-sort"); });
      header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
      var rows = Array.prototype.slice.call(body.rows);
      rows.sort(function (a, b) {
        var x = a.dataset[key], y = b.dataset[key];
        var order = numeric ? Number(x) - Number(y) : x.localeCompare(y, "ja");
        return ascending ? order : -order;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    }

    function applyFilter() {
      var wanted = kind ? kind.value : "";
      var needle = text ? text.value.trim().toLowerCase() : "";
      var shown = 0;
      Array.prototype.forEach.call(body.rows, function (row) {
        var match = (!wanted || row.dataset.kind === wanted) &&
          (!needle || (row.dataset.title + " " + row.dataset.drafter).toLowerCase().indexOf(needle) !== -1);
        row.hidden = !match;
        if (!match) {
          var box = row.querySelector("input[name=ids]");
          if (box) box.checked = false; // a hidden item is never processed by mistake
        }
        if (match) shown += 1;
      });
      if (count) count.textContent = (wanted || needle) ? shown + "件を表示しています。" : "";
      updateBulk();
    }

    function updateBulk() {
      if (!button) return;
      var picked = Array.prototype.filter.call(body.querySelectorAll("input[name=ids]"),
        function (box) { return box.checked; });
      var kinds = {};
      picked.forEach(function (box) {
        var row = box.closest("tr");
        kinds[row.dataset.action + "|" + row.dataset.label] = row;
      });
      var keys = Object.keys(kinds);
      if (picked.length === 0) {
        button.disabled = true;
        button.textContent = "選択した起案を一括処理";
        hint.textContent = "一括で処理する起案に印を付けてください。";
      } else if (keys.length > 1) {
        button.disabled = true;
        button.textContent = "選択した起案を一括処理";
        hint.textContent = "処理の違う起案（決裁と承認など）が混じっています。同じ処理の起案だけを選んでください。";
      } else {
        var row = kinds[keys[0]];
        button.disabled = false;
        button.value = row.dataset.action;
        label.value = row.dataset.label;
        button.textContent = "選択した" + picked.length + "件を" + row.dataset.label;
        hint.textContent = "";
      }
    }

    table.querySelectorAll("button.sort").forEach(function (sortButton) {
      sortButton.addEventListener("click", function () { sortBy(sortButton.closest("th")); });
    });
    if (kind) kind.addEventListener("change", applyFilter);
    if (text) text.addEventListener("input", applyFilter);
    body.addEventListener("change", updateBulk);
    updateBulk();
  }

  setup();
  // inbox-live.js swaps in a fresh 未処理 section when a new item arrives.
  new MutationObserver(setup).observe(document.getElementById("main") || document.body, { childList: true, subtree: true });
})();
