// 検索: the 絞り込み panel is a side panel on a wide screen and folded on a phone, where it would
// otherwise push the results below the fold; the person opens it with its summary (絞り込み).
(function () {
  "use strict";
  var panel = document.getElementById("facets");
  if (!panel || !window.matchMedia) { return; }
  var wide = window.matchMedia("(min-width: 900px)");
  function apply() { panel.open = wide.matches; }
  apply();
  if (wide.addEventListener) { wide.addEventListener("change", apply); }
})();
