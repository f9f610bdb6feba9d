// The shell's real-time link: one Socket.IO connection per page, the notification badge, and a
// clean sign-out when the server ends the session. Other pages reuse window.workspace.socket.
(function () {
  "use strict";
  if (!document.body.dataset.signedIn || typeof io === "undefined") { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var socket = io({ transports: ["websocket", "polling"] });
  var badge = document.getElementById("notice-badge");
  var count = document.getElementById("notice-count");
  var live = document.getElementById("live-region");

  function bump(text) {
    var n = parseInt(count.textContent, 10) || 0;
    count.textContent = String(n + 1);
    badge.hidden = false;
    if (text) { live.textContent = text; }
  }

  socket.on("notification:new", function (p) {
    if (p && p.kind === "chat.mention") { badge.href = "/chat/"; }
    bump(p && p.title ? p.title : "新しいお知らせがあります");
  });
  socket.on("approval:assigned", function (p) { bump("決裁が届きました: " + (p && p.title ? p.title : "")); });
  socket.on("session:ended", function () { window.location.assign("/login"); });

  window.workspace = {
    socket: socket,
    csrfToken: csrf ? csrf.content : "",
    bump: bump,
    api: function (method, path, body) {
      return fetch("/api/v1" + path, {
        method: method,
        credentials: "same-origin",
        headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
        body: body === undefined ? undefined : JSON.stringify(body)
      }).then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
      });
    }
  };
})();
