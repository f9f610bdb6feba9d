// 今日の仕事, live through the hub: when a notice, a 決裁 turn or a chat message arrives, the page asks
// GET /api/v1/home again and redraws only the sections whose content changed (the markup follows
// templates/workspace/home.html). Text goes in as text only.
(function () {
  "use strict";
  var ws = window.workspace;
  var today = document.getElementById("today");
  if (!ws || !today) { return; }
  var grid = document.getElementById("today-grid");
  var empty = document.getElementById("today-empty");
  var absent = document.getElementById("absent-today");
  var urls = today.dataset;
  var ORDER = ["pending", "sent_back", "post_review", "in_progress", "chat", "expiring", "recent"];

  function el(tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    (children || []).forEach(function (c) {
      if (c === null || c === undefined) { return; }
      node.appendChild(typeof c === "string" ? document.createTextNode(c) : c);
    });
    return node;
  }

  function link(href, text) { return el("a", { href: href }, [text]); }
  function meta(text) { return el("span", { "class": "meta" }, [text]); }
  function count(n) { return el("span", { "class": "count" }, [n + "件"]); }

  function section(key, heading, headingExtra, body) {
    var id = "t-" + { pending: "pending", sent_back: "sentback", post_review: "post", in_progress: "progress",
      chat: "chat", expiring: "expiring", recent: "recent" }[key];
    var h3 = el("h3", { id: id }, [heading].concat(headingExtra ? [" ", headingExtra] : []));
    return el("section", { "aria-labelledby": id, "data-section": key }, [h3].concat(body));
  }

  function list(items, render) {
    return el("ul", { "class": "today-list" }, items.map(function (item) { return el("li", {}, render(item)); }));
  }

  function approvalLink(item) { return link(urls.approvalUrl + item.id, item.title); }

  var BUILD = {
    pending: function (d) {
      if (!d.approvals_pending.length) { return null; }
      var body = [list(d.approvals_pending, function (item) {
        var waited = item.waiting_days > 0 ? item.waiting_days + "日経過" : "本日";
        return [approvalLink(item), " ", meta(item.kind + "・" + item.drafter + "・" + waited)];
      })];
      if (d.approvals_pending_count > d.approvals_pending.length) {
        body.push(el("p", {}, [link(urls.approvalsUrl, "すべての決裁待ちを見る")]));
      }
      return section("pending", "決裁待ち", count(d.approvals_pending_count), body);
    },
    sent_back: function (d) {
      if (!d.sent_back.length) { return null; }
      return section("sent_back", "差し戻された起案", count(d.sent_back.length), [list(d.sent_back, function (item) {
        return [approvalLink(item), " ", meta("理由：" + (item.reason || "（理由の記載なし）"))];
      })]);
    },
    post_review: function (d) {
      if (!d.post_review.length) { return null; }
      return section("post_review", "後閲", count(d.post_review.length), [list(d.post_review, function (item) {
        return [approvalLink(item), " ", meta(item.drafter || "")];
      })]);
    },
    in_progress: function (d) {
      if (!d.in_progress.length) { return null; }
      return section("in_progress", "回議中の起案", null, [list(d.in_progress, function (item) {
        return [approvalLink(item)];
      })]);
    },
    chat: function (d) {
      if (!d.mentions_unread && !d.channels_unread.length) { return null; }
      var body = [];
      if (d.mentions_unread) {
        body.push(el("p", { "class": "mentions" }, ["あなた宛てのメンション（未読）：",
          el("a", { href: urls.notificationsUrl }, [el("strong", {}, [d.mentions_unread + "件"])])]));
      }
      body.push(list(d.channels_unread, function (item) {
        return [link(urls.chatUrl + "?channel=" + item.id, item.name), " ", meta("未読 " + item.unread + "件")];
      }));
      return section("chat", "チャット", null, body);
    },
    expiring: function (d) {
      if (!d.expiring_documents) { return null; }
      return section("expiring", "今年度で保存期間が終わる文書", null,
        [el("p", {}, [link(urls.retentionUrl, d.expiring_documents + "件")])]);
    },
    recent: function (d) {
      if (!d.recent_documents.length) { return null; }
      return section("recent", "課の新しい文書", null, [list(d.recent_documents, function (item) {
        var parts = [link(urls.documentUrl + item.id, item.title)];
        if (item.document_number) { parts.push(" ", meta(item.document_number)); }
        return parts;
      })]);
    }
  };

  // What a person sees of a section: its text and where its links go (whitespace does not count).
  function looks(node) {
    if (!node) { return ""; }
    var hrefs = Array.prototype.map.call(node.querySelectorAll("a"), function (a) { return a.getAttribute("href"); });
    return node.textContent.replace(/\s+/g, "") + "|" + hrefs.join(",");
  }

  function render(data) {
    ORDER.forEach(function (key, index) {
      var old = grid.querySelector('[data-section="' + key + '"]');
      var fresh = BUILD[key](data);
      if (looks(old) === looks(fresh)) { return; }
      var focused = old && old.contains(document.activeElement) ? document.activeElement.getAttribute("href") : null;
      if (old) { old.remove(); }
      if (fresh) {
        var next = null;
        for (var i = index + 1; i < ORDER.length && !next; i++) {
          next = grid.querySelector('[data-section="' + ORDER[i] + '"]');
        }
        grid.insertBefore(fresh, next);
        // Keep the keyboard where it was when the same link is still there.
        var again = focused && fresh.querySelector('a[href="' + focused + '"]');
        if (again) { again.focus(); }
      }
    });
    var nothing = !grid.querySelector("[data-section]");
    empty.hidden = !nothing;
    var names = data.absent_today.map(function (p) { return p.display_name; });
    absent.hidden = !names.length;
    absent.textContent = names.length ? "本日不在：" + names.join("、") : "";
  }

  // Several events often come together (a notice and a 決裁 turn): one fetch answers them all.
  var timer = null;
  function refresh() {
    clearTimeout(timer);
    timer = setTimeout(function () {
      ws.api("GET", "/home").then(function (r) { if (r.status === 200) { render(r.data); } });
    }, 250);
  }

  document.addEventListener("workspace:notification", refresh);
  ["approval:assigned", "notification:read", "message:new", "message:deleted"].forEach(function (name) {
    ws.socket.on(name, refresh);
  });
  // Whatever happened between drawing the page and the socket (re)connecting is read from the API:
  // the hub delivers at most once and only to connected sockets.
  ws.socket.on("connect", refresh);
  if (ws.socket.connected) { refresh(); }
})();
