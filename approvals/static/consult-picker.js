// The 合議 picker follows the 種別: show the chosen route's departments, hide the others' (their
// boxes are not read by the server anyway). Without JavaScript the page shows the picker of the
// route it was drawn with.
(function () {
  "use strict";
  var route = document.getElementById("route");
  if (!route || route.tagName !== "SELECT") return;
  function sync() {
    document.querySelectorAll("fieldset.consult-picker").forEach(function (set) {
      set.hidden = set.dataset.route !== route.value;
    });
  }
  route.addEventListener("change", sync);
  sync();
})();
