// The 通知 page: what is shown unread is marked read (opening the list is reading it), and a notice
// that arrives while the page is open is added at the top and read too. Text goes in as text only.
(function () {
  "use strict";
  var ws = window.workspace;
  var list = document.getElementById("notice-list");
  var empty = document.getElementById("notices-empty");
  if (!ws || !list) { return; }
  var labels = JSON.parse(list.dataset.kindLabels || "{}");
  var pending = [];
  var timer = null;

  // Marked in one call shortly after they are shown; the 新着 mark stays so the reader sees which.
  function markRead(ids) {
    pending = pending.concat(ids);
    clearTimeout(timer);
    timer = setTimeout(function () {
      var chosen = pending;
      pending = [];
      if (!chosen.length || document.hidden) { pending = chosen; return; }
      ws.api("POST", "/notifications/read", { ids: chosen }).then(function (r) {
        if (r.status === 204) { ws.refreshUnread(); }
      });
    }, 200);
  }

  function item(n) {
    var li = document.createElement("li");
    li.className = "notice-item is-unread";
    li.dataset.id = String(n.id);
    var kind = document.createElement("span");
    kind.className = "notice-kind notice-kind-" + n.kind;
    kind.textContent = labels[n.kind] || "お知らせ";
    var link = document.createElement("a");
    link.className = "notice-text";
    link.href = n.url;
    link.textContent = n.text;
    var meta = document.createElement("span");
    meta.className = "notice-meta";
    var time = document.createElement("time");
    time.dateTime = n.created_at;
    time.textContent = n.created_label || "";
    var fresh = document.createElement("span");
    fresh.className = "notice-new";
    fresh.textContent = "新着";
    meta.appendChild(time);
    meta.appendChild(document.createTextNode(" "));
    meta.appendChild(fresh);
    li.appendChild(kind);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(link);
    li.appendChild(document.createTextNode(" "));
    li.appendChild(meta);
    return li;
  }

  document.addEventListener("workspace:notification", function (event) {
    var n = event.detail;
    if (!n || !n.id || list.querySelector('[data-id="' + n.id + '"]')) { return; }
    list.insertBefore(item(n), list.firstChild);
    empty.hidden = true;
    markRead([n.id]);
  });
  // A page opened in a background tab is read when it is looked at.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) { markRead([]); } });

  var unread = Array.prototype.map.call(list.querySelectorAll('[data-unread="1"]'), function (li) {
    return Number(li.dataset.id);
  });
  if (unread.length) { markRead(unread); }
})();
