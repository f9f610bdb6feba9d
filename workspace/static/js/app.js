// The shell's real-time link: one Socket.IO connection per page, the header's 通知 count, and a
// clean sign-out when the server ends the session. Other pages reuse window.workspace.socket and
// listen for the "workspace:notification" DOM event instead of subscribing a second time.
(function () {
  "use strict";
  if (!document.body.dataset.signedIn || typeof io === "undefined") { return; }
  var csrf = document.querySelector('meta[name="csrf-token"]');
  var socket = io({ transports: ["websocket", "polling"] });
  var count = document.getElementById("notice-count");
  var words = document.getElementById("notice-count-words");
  var live = document.getElementById("live-region");

  function api(method, path, body) {
    return fetch("/api/v1" + path, {
      method: method,
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRFToken": csrf ? csrf.content : "" },
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    });
  }

  // The link's accessible name is 「通知」 or 「通知 3件」; the red bubble shows the digits only.
  function setUnread(n) {
    n = Math.max(0, Number(n) || 0);
    count.textContent = String(n);
    count.hidden = n === 0;
    words.textContent = n > 0 ? " " + n + "件" : "";
  }

  // A count fetched over HTTP may have been read before a notice that has since arrived live: the
  // answer is dropped when a live count came in while it was on its way (the live one is newer).
  var liveCounts = 0;
  function refreshUnread() {
    var seen = liveCounts;
    return api("GET", "/notifications?unread=1&limit=1").then(function (r) {
      if (r.status === 200 && seen === liveCounts) { setUnread(r.data.unread); }
    });
  }

  socket.on("notification:new", function (p) {
    if (!p) { return; }
    liveCounts += 1;
    setUnread(p.unread);
    if (p.text) { live.textContent = p.text; }
    desktopNotice(p);
    document.dispatchEvent(new CustomEvent("workspace:notification", { detail: p }));
  });

  // デスクトップ通知 (設定 › 通知の設定): only while this tab is hidden, only when the person chose it
  // and the browser allows it. The choice is asked for once per page, when the first notice comes.
  var desktopWanted = null;
  function desktopNotice(p) {
    if (!p.text || !document.hidden || !("Notification" in window) || Notification.permission !== "granted") { return; }
    if (desktopWanted === null) {
      desktopWanted = api("GET", "/me/preferences").then(function (r) { return r.status === 200 && r.data.desktop === true; });
    }
    desktopWanted.then(function (wanted) {
      if (!wanted || !document.hidden) { return; }
      var notice = new Notification("職員ポータルの通知", { body: p.text, tag: "workspace-" + p.id, lang: "ja" });
      notice.onclick = function () {
        window.focus();
        if (p.url && p.url.charAt(0) === "/" && p.url.charAt(1) !== "/") { window.location.assign(p.url); }
        notice.close();
      };
    });
  }
  // Read on another page or tab: every open page shows the same count.
  socket.on("notification:read", function (p) { if (p) { liveCounts += 1; setUnread(p.unread); } });
  socket.on("session:ended", function () { window.location.assign("/login"); });

  // Delivery is at most once and only to connected sockets: whenever the socket (re)connects, the
  // count is asked for again (a notice may have come between drawing the page and connecting).
  socket.on("connect", refreshUnread);

  window.workspace = {
    socket: socket,
    csrfToken: csrf ? csrf.content : "",
    setUnread: setUnread,
    refreshUnread: refreshUnread,
    api: api
  };
})();
