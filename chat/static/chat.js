// The chat screen. Every piece of user text is put in the page with textContent or DOM text nodes,
// never innerHTML, and links are built only for http(s) and mailto, so nothing a message contains can
// run script. Delivery over Socket.IO is at most once: after every (re)connect the page walks the
// history forward from the last id it has shown before applying live events, so nothing is lost or doubled.
(function () {
  "use strict";
  var root = document.getElementById("chat");
  if (!root || !window.workspace) { return; }
  var ws = window.workspace;
  var socket = ws.socket;
  var me = root.dataset.me;
  var PAGE = 50;
  var TYPING_EVERY_MS = 3000;

  var els = {
    channels: document.getElementById("channel-list"),
    joinable: document.getElementById("joinable-list"),
    title: document.getElementById("channel-title"),
    list: document.getElementById("message-list"),
    older: document.getElementById("load-older"),
    typing: document.getElementById("typing"),
    form: document.getElementById("composer"),
    input: document.getElementById("composer-input"),
    file: document.getElementById("composer-file"),
    error: document.getElementById("composer-error"),
    dialog: document.getElementById("readers-dialog"),
    read: document.getElementById("readers-read"),
    unread: document.getElementById("readers-unread"),
    notify: document.getElementById("notify-enable")
  };

  var state = {
    channels: {},      // id → {id, name, kind, unread}
    current: null,     // channel id shown
    lastId: 0,         // newest message id shown in the current channel
    firstId: null,     // oldest message id shown (for paging back)
    shown: {},         // message id → true, for the current channel
    positions: {},     // username → last_read_id in the current channel
    syncing: true,     // while catching up, live events wait in `buffer`
    buffer: [],
    composing: false,
    reactions: {},     // message id → [{emoji, count, users}]
    members: [],       // [{username, display_name}] of the current channel, for @mention highlighting
    lastTyping: 0
  };

  // chat-people.js hook: channels and people (create, browse, leave, DMs), @mention completion and
  // highlighting. Without it the page still works, with plain bodies and no completion.
  var peopleUi = window.chatPeople ? window.chatPeople.attach({
    loadChannels: function () { return loadChannels(); },
    selectChannel: function (id) { return selectChannel(id); },
    channels: function () { return state.channels; },
    current: function () { return state.current; },
    members: function () { return state.members; },
    renderText: function (node, text) { renderBody(node, text); }
  }) : null;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  // --- text with safe links ------------------------------------------------------------------
  var LINK = /(https?:\/\/[^\s<>"'、。）」]+|mailto:[^\s<>"'、。）」]+)/g;

  function safeHref(candidate) {
    try {
      var url = new URL(candidate);
      return (url.protocol === "http:" || url.protocol === "https:" || url.protocol === "mailto:") ? url.href : null;
    } catch (e) { return null; }
  }

  function renderBody(container, text) {
    container.textContent = "";
    var last = 0;
    text.replace(LINK, function (match, _g, offset) {
      container.appendChild(document.createTextNode(text.slice(last, offset)));
      var href = safeHref(match);
      if (href) {
        var a = el("a", null, match);
        a.href = href;
        a.rel = "noopener noreferrer";
        a.target = "_blank";
        container.appendChild(a);
      } else {
        container.appendChild(document.createTextNode(match));
      }
      last = offset + match.length;
      return match;
    });
    container.appendChild(document.createTextNode(text.slice(last)));
  }

  function timeText(iso) {
    var d = new Date(iso);
    return isNaN(d) ? "" : d.toLocaleString("ja-JP", { month: "numeric", day: "numeric", hour: "2-digit", minute: "2-digit" });
  }

  // --- channel list ----------------------------------------------------------------------------
  function renderChannels() {
    els.channels.textContent = "";
    Object.keys(state.channels).map(Number).sort(function (a, b) { return a - b; }).forEach(function (id) {
      var c = state.channels[id];
      var li = el("li");
      var button = el("button");
      button.type = "button";
      button.appendChild(el("span", "channel-name", c.name));
      if (c.unread > 0 && id !== state.current) {
        button.appendChild(el("span", "unread-badge", c.unread));
        button.setAttribute("aria-label", c.name + "（未読 " + c.unread + " 件）");
      }
      if (id === state.current) { button.setAttribute("aria-current", "true"); }
      button.addEventListener("click", function () { selectChannel(id); });
      li.appendChild(button);
      els.channels.appendChild(li);
    });
  }

  function loadChannels() {
    return ws.api("GET", "/channels").then(function (r) {
      if (r.status !== 200) { return; }
      var next = {};
      r.data.channels.forEach(function (c) { next[c.id] = c; });
      state.channels = next;
      renderChannels();
      return ws.api("GET", "/channels?scope=joinable");
    }).then(function (r) {
      if (!r || r.status !== 200) { return; }
      els.joinable.textContent = "";
      r.data.channels.forEach(function (c) {
        var li = el("li");
        var button = el("button", null, c.name + " に参加");
        button.type = "button";
        button.addEventListener("click", function () {
          ws.api("POST", "/channels/" + c.id + "/join").then(function () {
            return loadChannels();
          }).then(function () { selectChannel(c.id); });
        });
        li.appendChild(button);
        els.joinable.appendChild(li);
      });
    });
  }

  // --- messages ------------------------------------------------------------------------------
  function readCount(message) {
    var n = 0;
    Object.keys(state.positions).forEach(function (username) {
      if (username !== message.author.username && state.positions[username] >= message.id) { n += 1; }
    });
    return n;
  }

  function sizeText(bytes) {
    if (bytes < 1024) { return bytes + " B"; }
    if (bytes < 1024 * 1024) { return Math.round(bytes / 1024) + " KB"; }
    return (bytes / (1024 * 1024)).toFixed(1) + " MB";
  }

  // Attachment names are text; the links point only at the server's own /api/v1/attachments paths.
  function attachmentList(items) {
    var ul = el("ul", "message-attachments");
    items.forEach(function (a) {
      var li = el("li", "message-attachment");
      var link = el("a", null, a.filename);
      link.href = "/api/v1/attachments/" + Number(a.id);
      link.setAttribute("download", "");
      if (a.thumbnail_url) {
        var img = document.createElement("img");
        img.src = "/api/v1/attachments/" + Number(a.id) + "/thumbnail";
        img.alt = a.filename;
        img.loading = "lazy";
        img.className = "attachment-thumbnail";
        var wrap = el("a");
        wrap.href = link.href;
        wrap.setAttribute("download", "");
        wrap.appendChild(img);
        li.appendChild(wrap);
      }
      li.appendChild(link);
      li.appendChild(el("span", "attachment-size", "（" + sizeText(a.size) + "）"));
      ul.appendChild(li);
    });
    return ul;
  }

  function uploadFiles(channelId, chosen) {
    var ids = [];
    var chain = Promise.resolve();
    Array.prototype.forEach.call(chosen, function (file) {
      chain = chain.then(function () {
        var form = new FormData();
        form.append("file", file, file.name);
        return fetch("/api/v1/channels/" + channelId + "/attachments", {
          method: "POST",
          credentials: "same-origin",
          headers: { "X-CSRFToken": ws.csrfToken },
          body: form
        }).then(function (r) {
          return r.json().catch(function () { return {}; }).then(function (data) {
            if (r.status !== 201) {
              var reason = data.error && data.error.message ? data.error.message : "添付できませんでした。";
              throw new Error(file.name + ": " + reason);
            }
            ids.push(data.id);
          });
        });
      });
    });
    return chain.then(function () { return ids; });
  }

  var QUICK_REACTION = "👍";

  function reactionButtons(m) {
    var list = state.reactions[m.id] || m.reactions || [];
    var buttons = list.map(function (r) {
      var mine = r.users.indexOf(me) >= 0;
      var b = el("button", "reaction", r.emoji + " " + r.count);
      b.type = "button";
      b.setAttribute("aria-pressed", mine ? "true" : "false");
      b.setAttribute("aria-label", r.emoji + " " + r.count + "人: " + r.users.join("、"));
      b.addEventListener("click", function () { react(m.id, r.emoji, !mine); });
      return b;
    });
    if (!list.some(function (r) { return r.emoji === QUICK_REACTION; })) {
      var add = el("button", "reaction-add", QUICK_REACTION + "+");
      add.type = "button";
      add.setAttribute("aria-label", QUICK_REACTION + " でリアクション");
      add.addEventListener("click", function () { react(m.id, QUICK_REACTION, true); });
      buttons.push(add);
    }
    return buttons;
  }

  function redraw(id) {
    var node = els.list.querySelector('li[data-id="' + Number(id) + '"]');
    if (node && node._message) { els.list.replaceChild(messageNode(node._message), node); }
  }

  function react(id, emoji, add) {
    var path = "/messages/" + id + "/reactions" + (add ? "" : "/" + encodeURIComponent(emoji));
    ws.api(add ? "POST" : "DELETE", path, add ? { emoji: emoji } : undefined).then(function (r) {
      if (r.status < 300) { state.reactions[id] = r.data.reactions; redraw(id); }
      else { showError(r.data.error ? r.data.error.message : "リアクションできませんでした。"); }
    });
  }

  function togglePin(m) {
    ws.api(m.pinned_at ? "DELETE" : "PUT", "/messages/" + m.id + "/pin").then(function (r) {
      if (r.status < 300) { replace(r.data); }
      else { showError(r.data.error ? r.data.error.message : "ピン留めできませんでした。"); }
    });
  }

  function messageNode(m) {
    var li = el("li", "message" + (m.thread_id ? " reply" : "") + (m.deleted ? " message-deleted" : ""));
    li.dataset.id = m.id;
    li.id = "message-" + m.id;  // the anchor of a search hit's link (/chat/?channel=…#message-…)
    li.dataset.author = m.author.username;
    var head = el("div", "message-head");
    head.appendChild(el("strong", "message-author", m.author.display_name));
    var time = el("time", "message-time", timeText(m.created_at));
    time.dateTime = m.created_at;
    head.appendChild(time);
    if (m.edited_at && !m.deleted) { head.appendChild(el("span", "message-edited", "（編集済み）")); }
    if (m.pinned_at && !m.deleted) { head.appendChild(el("span", "message-pinned", "📌 ピン留め")); }
    li.appendChild(head);
    var body = el("div", "message-body");
    if (m.deleted) { body.textContent = "このメッセージは削除されました"; }
    else if (peopleUi) { peopleUi.renderBody(body, m.body); }  // chat-people.js hook: mentions highlighted
    else { renderBody(body, m.body); }
    li.appendChild(body);
    if (!m.deleted && m.attachments && m.attachments.length) { li.appendChild(attachmentList(m.attachments)); }
    if (!m.deleted) {
      var tools = el("div", "message-tools");
      var reads = el("button", "read-count", "既読 " + readCount(m));
      reads.type = "button";
      reads.setAttribute("aria-haspopup", "dialog");
      reads.addEventListener("click", function () { showReaders(m.id); });
      tools.appendChild(reads);
      reactionButtons(m).forEach(function (b) { tools.appendChild(b); });
      var pin = el("button", null, m.pinned_at ? "ピン留めを外す" : "ピン留め");
      pin.type = "button";
      pin.addEventListener("click", function () { togglePin(m); });
      tools.appendChild(pin);
      if (m.author.username === me) {
        var edit = el("button", null, "編集");
        edit.type = "button";
        edit.addEventListener("click", function () { editMessage(m.id); });
        var del = el("button", null, "削除");
        del.type = "button";
        del.addEventListener("click", function () { deleteMessage(m.id); });
        tools.appendChild(edit);
        tools.appendChild(del);
      }
      li.appendChild(tools);
    }
    li._message = m;
    return li;
  }

  function append(m) {
    if (m.channel_id !== state.current || state.shown[m.id]) { return false; }
    if (m.reactions) { state.reactions[m.id] = m.reactions; }
    state.shown[m.id] = true;
    state.positions[m.author.username] = Math.max(state.positions[m.author.username] || 0, m.id);
    var node = messageNode(m);
    // Ids increase, so a message older than the last shown one belongs before it.
    var after = null;
    Array.prototype.some.call(els.list.children, function (child) {
      if (Number(child.dataset.id) > m.id) { after = child; return true; }
      return false;
    });
    els.list.insertBefore(node, after);
    state.lastId = Math.max(state.lastId, m.id);
    if (state.firstId === null || m.id < state.firstId) { state.firstId = m.id; }
    return true;
  }

  function replace(m) {
    var node = els.list.querySelector('li[data-id="' + Number(m.id) + '"]');
    if (node) { els.list.replaceChild(messageNode(m), node); }
  }

  function refreshReadCounts() {
    Array.prototype.forEach.call(els.list.children, function (li) {
      var button = li.querySelector(".read-count");
      if (button && li._message) { button.textContent = "既読 " + readCount(li._message); }
    });
  }

  function scrollToEnd() { els.list.scrollTop = els.list.scrollHeight; }

  // Walk forward from the last shown id until the server has nothing newer, then apply what arrived
  // live meanwhile (already-shown ids are skipped, so nothing doubles).
  function catchUp(channelId) {
    state.syncing = true;
    function step() {
      return ws.api("GET", "/channels/" + channelId + "/messages?after=" + state.lastId + "&limit=" + PAGE).then(function (r) {
        if (channelId !== state.current || r.status !== 200) { return; }
        r.data.messages.forEach(append);
        if (r.data.messages.length === PAGE) { return step(); }
      });
    }
    return step().then(function () {
      var waiting = state.buffer;
      state.buffer = [];
      state.syncing = false;
      waiting.forEach(function (m) { append(m); });
      scrollToEnd();
      markRead();
    });
  }

  function selectChannel(id) {
    state.current = id;
    state.lastId = 0;
    state.firstId = null;
    state.shown = {};
    state.buffer = [];
    state.syncing = true;
    els.list.textContent = "";
    els.typing.textContent = "";
    var channel = state.channels[id];
    els.title.textContent = channel ? channel.name : "";
    if (peopleUi) { peopleUi.channelShown(channel); }  // chat-people.js hook: 説明 and 退出
    renderChannels();
    return ws.api("GET", "/channels/" + id).then(function (r) {
      if (r.status !== 200) { return; }
      state.positions = {};
      r.data.members.forEach(function (m) { state.positions[m.username] = m.last_read_id; });
      state.members = r.data.members;
      return ws.api("GET", "/channels/" + id + "/messages?limit=" + PAGE);
    }).then(function (r) {
      if (!r || r.status !== 200 || id !== state.current) { return; }
      r.data.messages.forEach(append);
      els.older.hidden = r.data.messages.length < PAGE;
      return catchUp(id);
    });
  }

  function loadOlder() {
    if (state.current === null || state.firstId === null) { return Promise.resolve(false); }
    var id = state.current;
    return ws.api("GET", "/channels/" + id + "/messages?before=" + state.firstId + "&limit=" + PAGE).then(function (r) {
      if (r.status !== 200 || id !== state.current) { return false; }
      r.data.messages.forEach(append);
      els.older.hidden = r.data.messages.length < PAGE;
      return r.data.messages.length > 0;
    });
  }

  // A search hit links to /chat/?channel=C#message-M: page back through history until M is shown
  // (at most MAX_REVEAL_PAGES pages), then scroll to it, mark it and move keyboard focus onto it.
  var MAX_REVEAL_PAGES = 20;
  function reveal(messageId, pagesLeft) {
    var node = document.getElementById("message-" + messageId);
    if (node) {
      node.classList.add("message-target");
      node.tabIndex = -1;
      node.scrollIntoView({ block: "center" });
      node.focus();
      return;
    }
    if (pagesLeft <= 0 || state.firstId === null || messageId > state.firstId) {
      showError("リンク先のメッセージは表示できません（削除されたか、保存期間を過ぎた可能性があります）。");
      return;
    }
    loadOlder().then(function (more) {
      if (more) { reveal(messageId, pagesLeft - 1); } else { reveal(messageId, 0); }
    });
  }

  function linkTarget() {
    var params = new URLSearchParams(window.location.search);
    var channel = Number(params.get("channel"));
    var match = /^#message-(\d+)$/.exec(window.location.hash);
    return { channel: channel > 0 ? channel : null, message: match ? Number(match[1]) : null };
  }

  var readTimer = null;
  function markRead() {
    if (state.current === null || document.hidden || !state.lastId) { return; }
    clearTimeout(readTimer);
    var id = state.current;
    var last = state.lastId;
    readTimer = setTimeout(function () {
      ws.api("POST", "/channels/" + id + "/read", { last_read_id: last }).then(function (r) {
        if (r.status === 200 && state.channels[id]) {
          state.channels[id].unread = r.data.unread;
          renderChannels();
        }
      });
    }, 300);
  }

  // --- actions -------------------------------------------------------------------------------
  function newClientId() {
    if (window.crypto && window.crypto.randomUUID) { return window.crypto.randomUUID(); }
    return Date.now().toString(36) + "-" + Math.random().toString(36).slice(2);
  }

  function showError(text) { els.error.textContent = text || ""; }

  function send() {
    var chosen = els.file && els.file.files ? els.file.files : [];
    if (chosen.length) { sendWithFiles(chosen); return; }
    var body = els.input.value;
    if (!body.trim() || state.current === null) { return; }
    var payload = { channel_id: state.current, body: body, client_msg_id: newClientId() };
    showError("");
    // Clear at once so the next message can be typed; a refused one is put back if the box is still empty.
    els.input.value = "";
    function done(result) {
      if (result.ok) {
        append(result.message);
        scrollToEnd();
      } else {
        if (!els.input.value) { els.input.value = body; }
        showError(result.error && result.error.message ? result.error.message : "送信できませんでした。");
      }
    }
    // Over HTTP when the socket is down; the same client_msg_id makes a double send harmless.
    function viaHttp() {
      ws.api("POST", "/channels/" + payload.channel_id + "/messages", payload).then(function (r) {
        done(r.status < 300 ? { ok: true, message: r.data } : { ok: false, error: r.data.error });
      });
    }
    if (socket.connected) {
      socket.timeout(10000).emit("message:send", payload, function (err, ack) {
        if (err) { viaHttp(); } else { done(ack); }
      });
    } else {
      viaHttp();
    }
  }

  // Files go up first (each checked by the server); the message then carries their ids.
  function sendWithFiles(chosen) {
    if (state.current === null) { return; }
    var channelId = state.current;
    var body = els.input.value;
    showError("");
    uploadFiles(channelId, chosen).then(function (ids) {
      var payload = { channel_id: channelId, body: body, client_msg_id: newClientId(), attachment_ids: ids };
      return ws.api("POST", "/channels/" + channelId + "/messages", payload).then(function (r) {
        if (r.status >= 300) { throw new Error(r.data.error ? r.data.error.message : "送信できませんでした。"); }
        els.input.value = "";
        els.file.value = "";
        append(r.data);
        scrollToEnd();
      });
    }).catch(function (error) { showError(error.message); });
  }

  function editMessage(id) {
    var node = els.list.querySelector('li[data-id="' + Number(id) + '"]');
    if (!node || !node._message) { return; }
    var text = window.prompt("メッセージを編集", node._message.body);
    if (text === null) { return; }
    ws.api("PATCH", "/messages/" + id, { body: text }).then(function (r) {
      if (r.status === 200) { replace(r.data); } else { showError(r.data.error ? r.data.error.message : ""); }
    });
  }

  function deleteMessage(id) {
    if (!window.confirm("このメッセージを削除しますか？")) { return; }
    ws.api("DELETE", "/messages/" + id).then(function (r) {
      if (r.status !== 204) { showError(r.data.error ? r.data.error.message : ""); }
    });
  }

  function fillList(list, people, withTime) {
    list.textContent = "";
    if (!people.length) { list.appendChild(el("li", null, "なし")); }
    people.forEach(function (p) {
      list.appendChild(el("li", null, p.display_name + (withTime && p.read_at ? "（" + timeText(p.read_at) + "）" : "")));
    });
  }

  function showReaders(id) {
    ws.api("GET", "/messages/" + id + "/readers").then(function (r) {
      if (r.status !== 200) { return; }
      fillList(els.read, r.data.read, true);
      fillList(els.unread, r.data.unread, false);
      if (els.dialog.showModal) { els.dialog.showModal(); } else { els.dialog.setAttribute("open", ""); }
    });
  }

  // --- composer: Enter sends, but never while an IME is composing (変換の確定) -----------------
  els.input.addEventListener("compositionstart", function () { state.composing = true; });
  els.input.addEventListener("compositionend", function () {
    // Some browsers send the confirming Enter's keydown after compositionend: wait one tick.
    setTimeout(function () { state.composing = false; }, 0);
  });
  els.input.addEventListener("keydown", function (event) {
    if (event.isComposing || state.composing || event.keyCode === 229) { return; }
    if (peopleUi && peopleUi.composerKey(event)) { return; }  // chat-people.js hook: the @mention list
    if (event.key !== "Enter" || event.shiftKey) { return; }
    event.preventDefault();
    send();
  });
  els.input.addEventListener("input", function () {
    var now = Date.now();
    if (state.current !== null && now - state.lastTyping > TYPING_EVERY_MS && socket.connected) {
      state.lastTyping = now;
      socket.emit("typing", { channel_id: state.current });
    }
  });
  els.form.addEventListener("submit", function (event) { event.preventDefault(); send(); });
  els.older.addEventListener("click", loadOlder);
  document.getElementById("readers-close").addEventListener("click", function () { els.dialog.close(); });

  // --- live events ---------------------------------------------------------------------------
  function notifyHidden(m) {
    if (!document.hidden || !("Notification" in window) || Notification.permission !== "granted") { return; }
    var channel = state.channels[m.channel_id];
    new Notification((channel ? channel.name + "：" : "") + m.author.display_name, { body: m.body.slice(0, 120) });
  }

  socket.on("message:new", function (m) {
    if (m.channel_id === state.current) {
      if (state.syncing) { state.buffer.push(m); return; }
      if (append(m)) { scrollToEnd(); markRead(); }
    } else if (state.channels[m.channel_id]) {
      if (m.author.username !== me) { state.channels[m.channel_id].unread += 1; }
      renderChannels();
    } else {
      loadChannels();  // a channel we were just added to
    }
    if (m.author.username !== me) { notifyHidden(m); }
  });
  socket.on("message:edited", function (m) { if (m.channel_id === state.current) { replace(m); } });
  socket.on("reaction:updated", function (p) {
    if (p.channel_id !== state.current) { return; }
    state.reactions[p.message_id] = p.reactions;
    redraw(p.message_id);
  });
  socket.on("pin:updated", function (p) {
    if (p.channel_id !== state.current) { return; }
    var node = els.list.querySelector('li[data-id="' + Number(p.message_id) + '"]');
    if (node && node._message) { node._message.pinned_at = p.pinned ? p.pinned_at : null; redraw(p.message_id); }
  });
  socket.on("message:deleted", function (p) {
    var node = els.list.querySelector('li[data-id="' + Number(p.id) + '"]');
    if (node && node._message) {
      var m = Object.assign({}, node._message, { deleted: true, body: "" });
      replace(m);
    }
  });
  socket.on("messages:purged", function (p) {
    if (p.channel_id !== state.current) { return; }
    p.ids.forEach(function (id) {
      var node = els.list.querySelector('li[data-id="' + Number(id) + '"]');
      if (node) { node.parentNode.removeChild(node); }
    });
    var first = els.list.firstElementChild;
    state.firstId = first ? Number(first.dataset.id) : null;
  });
  socket.on("read:updated", function (p) {
    if (p.channel_id !== state.current) { return; }
    state.positions[p.username] = Math.max(state.positions[p.username] || 0, p.last_read_id);
    refreshReadCounts();
  });
  var typingTimer = null;
  socket.on("typing", function (p) {
    if (p.channel_id !== state.current || p.username === me) { return; }
    els.typing.textContent = p.display_name + "さんが入力中…";
    clearTimeout(typingTimer);
    typingTimer = setTimeout(function () { els.typing.textContent = ""; }, 4000);
  });
  socket.on("connect", function () {
    socket.emit("presence", { status: document.hidden ? "away" : "online" });
    // A reconnect may have missed events: resync the list and the open channel from history.
    loadChannels();
    if (state.current !== null) { catchUp(state.current); }
  });
  socket.on("disconnect", function () { if (state.current !== null) { state.syncing = true; } });
  document.addEventListener("visibilitychange", function () {
    if (socket.connected) { socket.emit("presence", { status: document.hidden ? "away" : "online" }); }
    if (!document.hidden) { markRead(); }
  });

  if ("Notification" in window && Notification.permission === "default") {
    els.notify.hidden = false;
    els.notify.addEventListener("click", function () {
      Notification.requestPermission().then(function () { els.notify.hidden = true; });
    });
  }

  loadChannels().then(function () {
    var ids = Object.keys(state.channels).map(Number);
    var target = linkTarget();
    if (target.channel !== null && state.channels[target.channel]) {
      selectChannel(target.channel).then(function () {
        if (target.message !== null) { reveal(target.message, MAX_REVEAL_PAGES); }
      });
    } else if (ids.length) {
      // An unknown or foreign channel in the link opens the default channel: nothing about it is shown.
      var department = ids.filter(function (id) { return state.channels[id].kind === "department"; })[0];
      selectChannel(department !== undefined ? department : ids[0]);
    }
  });
})();
