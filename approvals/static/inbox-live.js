// The inbox stays current: when the hub says a new item waits for me (approval:assigned), fetch this
// page again and swap in its 未処理 section. DOMParser never runs scripts, and the server escaped
// everything it rendered. Ticked boxes and keyboard focus survive the swap.
(function () {
  "use strict";
  var ws = window.workspace;
  if (!ws || !ws.socket) return;

  function refresh() {
    fetch(window.location.pathname, { credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("inbox-pending");
        var current = document.getElementById("inbox-pending");
        if (!fresh || !current) return;
        var ticked = Array.prototype.map.call(current.querySelectorAll("input[name=ids]:checked"),
          function (box) { return box.value; });
        var focusedId = current.contains(document.activeElement) ? document.activeElement.id : null;
        current.replaceWith(fresh);
        ticked.forEach(function (value) {
          var box = fresh.querySelector('input[name=ids][value="' + CSS.escape(value) + '"]');
          if (box) box.checked = true;
        });
        if (focusedId && document.getElementById(focusedId)) document.getElementById(focusedId).focus();
      })
      .catch(function () { /* the badge still tells; a reload shows the list */ });
  }

  ws.socket.on("approval:assigned", refresh);
  // After a reconnect the page may have missed events (delivery is at most once): resync.
  var connectedBefore = ws.socket.connected;
  ws.socket.on("connect", function () {
    if (connectedBefore) refresh();
    connectedBefore = true;
  });
})();
