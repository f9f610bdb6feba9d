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
    archived: document.getElementById("channel-archived"),
    input: document.getElementById("composer-input"),
    file: document.getElementById("composer-file"),
    error: document.getElementById("composer-error"),
    dialog: document.getElementById("readers-dialog"),
    read: document.getElementById("readers-read"),
    unread: document.getElementById("readers-unread"),
    notify: document.getElementById("notify-enable"),
    help: document.getElementById("composer-help"),
    jump: document.getElementById("jump-unread"),
    thread: document.getElementById("thread-panel"),
    threadParent: document.getElementById("thread-parent"),
    threadCount: document.getElementById("thread-count"),
    threadList: document.getElementById("thread-replies"),
    threadForm: document.getElementById("thread-composer"),
    threadInput: document.getElementById("thread-input"),
    threadBroadcast: document.getElementById("thread-broadcast"),
    threadError: document.getElementById("thread-error"),
    threadHelp: document.getElementById("thread-help"),
    threadClose: document.getElementById("thread-close"),
    deleteDialog: document.getElementById("delete-dialog"),
    deleteConfirm: document.getElementById("delete-confirm"),
    deleteCancel: document.getElementById("delete-cancel")
  };

  // From the server: the era table of workspace/calendar.py (for 和暦 date lines) and the reaction
  // picker with the app's own images (no emoji font needed).
  var ERAS = JSON.parse(root.dataset.eras || "[]");
  var PICKER = JSON.parse(root.dataset.reactions || "[]");
  // A touch keyboard has no Shift+Enter: there Enter makes a new line and the 送信 button sends.
  var COARSE = window.matchMedia ? window.matchMedia("(pointer: coarse)") : { matches: false };

  var state = {
    channels: {},      // id → {id, name, kind, unread}
    current: null,     // channel id shown
    lastId: 0,         // newest message id shown in the current channel
    firstId: null,     // oldest message id shown (for paging back)
    shown: {},         // message id → true, for the current channel
    positions: {},     // username → last_read_id in the current channel
    syncing: true,     // while catching up, live events wait in `buffer`
    opening: null,     // the channel whose first page is still loading (selectChannel catches up itself)
    buffer: [],
    composing: false,
    reactions: {},     // message id → [{emoji, count, users}]
    members: [],       // [{username, display_name}] of the current channel, for @mention highlighting
    lastTyping: 0,
    replyCounts: {},   // parent id → number of replies (history, then thread:updated)
    staleThreads: {},  // parent id → true: replies came in a catch-up; recount after it
    unreadAfter: null, // my read position when the channel was opened (ここから未読 after it)
    jumped: false,     // the jump to the first unread was used (its button is then hidden)
    thread: null,      // id of the parent whose thread panel is open
    threadShown: {},   // reply id → true, in the open thread
    threadOpener: null,// the button that opened the panel (focus goes back to it)
    deleting: null,    // {id, opener} while the delete confirmation is open
    picker: null       // message id whose reaction picker is open
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

  // --- dates in 和暦, in Japan time (the office's clock, whatever the PC's zone) -----------------
  var JST_PARTS = new Intl.DateTimeFormat("en-US", {
    timeZone: "Asia/Tokyo", year: "numeric", month: "numeric", day: "numeric",
    hour: "2-digit", minute: "2-digit", hourCycle: "h23"
  });
  var WEEKDAYS = "日月火水木金土";  // Date.getUTCDay(): Sunday is 0

  function jstParts(iso) {
    var d = new Date(iso);
    if (isNaN(d)) { return null; }
    var parts = {};
    JST_PARTS.formatToParts(d).forEach(function (p) { parts[p.type] = p.value; });
    return { y: Number(parts.year), m: Number(parts.month), d: Number(parts.day), hh: parts.hour, mm: parts.minute };
  }

  function pad2(n) { return (n < 10 ? "0" : "") + n; }

  // 令和8年12月3日（木）, from the server's era table (calendar.wareki_weekday does the same).
  function warekiDay(p) {
    var key = p.y + "-" + pad2(p.m) + "-" + pad2(p.d);
    var era = ERAS.filter(function (e) { return e.start <= key; })[0];
    var weekday = WEEKDAYS[new Date(Date.UTC(p.y, p.m - 1, p.d)).getUTCDay()];
    if (!era) { return p.y + "年" + p.m + "月" + p.d + "日（" + weekday + "）"; }
    var year = p.y - Number(era.start.slice(0, 4)) + 1;
    return era.name + (year === 1 ? "元" : year) + "年" + p.m + "月" + p.d + "日（" + weekday + "）";
  }

  function dayKey(iso) {
    var p = jstParts(iso);
    return p ? p.y + "-" + p.m + "-" + p.d : "";
  }

  // The time of a message (its day is on the date line above it).
  function timeText(iso) {
    var p = jstParts(iso);
    return p ? p.hh + ":" + p.mm : "";
  }

  // A moment on its own (who read when): 令和8年12月3日（木） 09:30.
  function momentText(iso) {
    var p = jstParts(iso);
    return p ? warekiDay(p) + " " + p.hh + ":" + p.mm : "";
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

  // --- reactions: chips for what was given, and a picker of calm office reactions -------------
  function pickerEntry(emoji) {
    return PICKER.filter(function (r) { return r.emoji === emoji; })[0] || null;
  }

  // The face of a reaction: the app's image, a word chip, or (stored before the picker, or sent
  // through the API) the emoji as text.
  function reactionFace(emoji) {
    var entry = pickerEntry(emoji);
    if (entry && entry.image) {
      var img = document.createElement("img");
      img.src = entry.image;
      img.alt = "";
      img.className = "reaction-image";
      img.width = 20;
      img.height = 20;
      return img;
    }
    return el("span", "reaction-text", entry ? entry.text : emoji);
  }

  function reactionName(emoji) {
    var entry = pickerEntry(emoji);
    return entry ? entry.name : emoji;
  }

  function personName(username) {
    var found = state.members.filter(function (m) { return m.username === username; })[0];
    return found ? found.display_name : username;
  }

  function reactionButtons(m) {
    var list = state.reactions[m.id] || m.reactions || [];
    var buttons = list.map(function (r) {
      var mine = r.users.indexOf(me) >= 0;
      var b = el("button", "reaction");
      b.type = "button";
      b.appendChild(reactionFace(r.emoji));
      b.appendChild(el("span", "reaction-count", r.count));
      b.setAttribute("aria-pressed", mine ? "true" : "false");
      b.setAttribute("aria-label", reactionName(r.emoji) + " " + r.count + "人: " + r.users.map(personName).join("、"));
      b.title = reactionName(r.emoji);
      b.addEventListener("click", function () { react(m.id, r.emoji, !mine); });
      return b;
    });
    var add = el("button", "reaction-add", "＋ リアクション");
    add.type = "button";
    add.setAttribute("aria-expanded", "false");
    add.setAttribute("aria-label", "リアクションを追加");
    add.addEventListener("click", function () { togglePicker(m, add); });
    buttons.push(add);
    return buttons;
  }

  function closePicker(focusBack) {
    var open = root.querySelector(".reaction-picker");
    if (!open) { state.picker = null; return; }
    var opener = open._opener;
    open.parentNode.removeChild(open);
    state.picker = null;
    if (opener) {
      opener.setAttribute("aria-expanded", "false");
      if (focusBack) { opener.focus(); }
    }
  }

  function togglePicker(m, opener) {
    var wasOpen = state.picker === m.id && opener.getAttribute("aria-expanded") === "true";
    closePicker(false);
    if (wasOpen) { return; }
    var mine = (state.reactions[m.id] || m.reactions || []).filter(function (r) {
      return r.users.indexOf(me) >= 0;
    }).map(function (r) { return r.emoji; });
    var box = el("div", "reaction-picker");
    box.setAttribute("role", "group");
    box.setAttribute("aria-label", "リアクションを選ぶ");
    PICKER.forEach(function (entry) {
      var b = el("button", "reaction-choice");
      b.type = "button";
      b.setAttribute("aria-label", entry.name);
      b.title = entry.name;
      if (mine.indexOf(entry.emoji) >= 0) { b.setAttribute("aria-pressed", "true"); }
      b.appendChild(reactionFace(entry.emoji));
      b.addEventListener("click", function () {
        closePicker(true);
        react(m.id, entry.emoji, mine.indexOf(entry.emoji) < 0);
      });
      box.appendChild(b);
    });
    box.addEventListener("keydown", function (event) {
      if (event.key === "Escape") { event.preventDefault(); closePicker(true); }
    });
    box._opener = opener;
    opener.setAttribute("aria-expanded", "true");
    opener.parentNode.insertBefore(box, opener.nextSibling);
    state.picker = m.id;
    box.querySelector("button").focus();
  }

  // A press anywhere else closes the open picker, as a menu would.
  document.addEventListener("click", function (event) {
    if (state.picker !== null && !event.target.closest(".reaction-picker, .reaction-add")) { closePicker(false); }
  });

  // Every drawing of a message: in the timeline, and as parent or reply in the open thread.
  function nodesFor(id) {
    return Array.prototype.slice.call(root.querySelectorAll('li.message[data-id="' + Number(id) + '"]'));
  }

  function redraw(id) {
    nodesFor(id).forEach(function (node) {
      if (!node._message) { return; }
      if (node._editing) { return; }  // the open editor keeps its text; it redraws when closed
      swapNode(node, messageNode(node._message, node._where));
    });
    decorate();
  }

  // Replace a drawing of a message, keeping keyboard focus on the same control of it: a reaction
  // or a pin redraws the message, and the person pressing it must not be thrown back to the page top.
  function swapNode(node, fresh) {
    var active = document.activeElement;
    var key = active && active !== node && node.contains(active) && active.tagName === "BUTTON" ?
      { cls: active.className, text: active.textContent } : null;
    node.parentNode.replaceChild(fresh, node);
    if (!key) { return; }
    var buttons = Array.prototype.slice.call(fresh.querySelectorAll("button"));
    var found = buttons.filter(function (b) { return b.className === key.cls && b.textContent === key.text; })[0] ||
      buttons.filter(function (b) { return key.cls && b.className === key.cls; })[0];
    if (found) { found.focus(); }
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

  // Replies live in their thread; the timeline draws only top-level messages and the replies
  // whose author also posted them to the channel.
  function inTimeline(m) { return !m.thread_id || m.also_in_channel; }

  function replyCount(m) {
    var known = state.replyCounts[m.id];
    return known !== undefined ? known : (m.reply_count || 0);
  }

  // where: "timeline" (default), "parent" (the thread panel's head) or "reply" (in the panel).
  function messageNode(m, where) {
    where = where || "timeline";
    var broadcast = where === "timeline" && m.thread_id;
    var li = el("li", "message" + (broadcast ? " message-broadcast" : "") + (m.deleted ? " message-deleted" : ""));
    li.dataset.id = m.id;
    // The timeline's node is the anchor of a search hit's link (/chat/?channel=…#message-…).
    li.id = (where === "timeline" ? "message-" : "thread-message-") + m.id;
    li.dataset.author = m.author.username;
    li._where = where;
    var head = el("div", "message-head");
    head.appendChild(el("strong", "message-author", m.author.display_name));
    var time = el("time", "message-time", timeText(m.created_at));
    time.dateTime = m.created_at;
    time.title = momentText(m.created_at);
    head.appendChild(time);
    if (m.edited_at && !m.deleted) { head.appendChild(el("span", "message-edited", "（編集済み）")); }
    if (m.pinned_at && !m.deleted) { head.appendChild(el("span", "message-pinned", "📌 ピン留め")); }
    if (broadcast) { head.appendChild(el("span", "message-thread-note", "スレッドへの返信")); }
    li.appendChild(head);
    var body = el("div", "message-body");
    if (m.deleted) { body.textContent = "このメッセージは削除されました"; }
    else if (peopleUi) { peopleUi.renderBody(body, m.body); }  // chat-people.js hook: mentions highlighted
    else { renderBody(body, m.body); }
    li.appendChild(body);
    if (!m.deleted && m.attachments && m.attachments.length) { li.appendChild(attachmentList(m.attachments)); }
    if (!m.deleted) { li.appendChild(messageTools(m, where)); }
    li._message = m;
    return li;
  }

  function toolButton(text, onClick, className) {
    var b = el("button", className || null, text);
    b.type = "button";
    b.addEventListener("click", onClick);
    return b;
  }

  function messageTools(m, where) {
    var tools = el("div", "message-tools");
    var reads = toolButton("既読 " + readCount(m), function () { showReaders(m.id); }, "read-count");
    reads.setAttribute("aria-haspopup", "dialog");
    tools.appendChild(reads);
    if (where === "timeline") {
      var parentId = m.thread_id || m.id;
      var reply = toolButton("返信", function () { openThread(parentId, reply); }, "reply-button");
      tools.appendChild(reply);
      var n = m.thread_id ? 0 : replyCount(m);
      if (n > 0) {
        var count = toolButton("返信 " + n + "件", function () { openThread(m.id, count); }, "reply-count");
        tools.appendChild(count);
      }
    }
    reactionButtons(m).forEach(function (b) { tools.appendChild(b); });
    tools.appendChild(toolButton(m.pinned_at ? "ピン留めを外す" : "ピン留め", function () { togglePin(m); }, "pin-button"));
    if (m.author.username === me) {
      tools.appendChild(toolButton("編集", function () { startEdit(m.id, this); }, "edit-button"));
      tools.appendChild(toolButton("削除", function () { confirmDelete(m.id, this); }, "delete-button"));
    }
    return tools;
  }

  function append(m) {
    if (m.channel_id !== state.current || state.shown[m.id]) { return false; }
    if (m.reactions) { state.reactions[m.id] = m.reactions; }
    state.shown[m.id] = true;
    state.positions[m.author.username] = Math.max(state.positions[m.author.username] || 0, m.id);
    state.lastId = Math.max(state.lastId, m.id);
    if (state.firstId === null || m.id < state.firstId) { state.firstId = m.id; }
    if (m.thread_id && state.thread === m.thread_id) { appendReply(m); }
    if (m.thread_id && state.syncing && state.shown[m.thread_id]) { state.staleThreads[m.thread_id] = true; }
    if (!inTimeline(m)) { return false; }
    var node = messageNode(m);
    // Ids increase, so a message older than the last shown one belongs before it.
    var after = null;
    Array.prototype.some.call(els.list.querySelectorAll("li.message"), function (child) {
      if (Number(child.dataset.id) > m.id) { after = child; return true; }
      return false;
    });
    els.list.insertBefore(node, after);
    decorate();
    return true;
  }

  function replace(m) {
    nodesFor(m.id).forEach(function (node) {
      if (node._editing) { node._message = m; return; }  // shown when the editor closes
      swapNode(node, messageNode(m, node._where));
    });
    decorate();
  }

  // --- reading: date lines in 和暦 and ここから未読 ----------------------------------------------
  // Both are drawn at the top of the message they precede (inside its list item, so the list holds
  // only messages), and are rebuilt after every change of the list: cheap for a page, never stale.
  function decorate() {
    Array.prototype.slice.call(els.list.querySelectorAll(".day-separator, .unread-line")).forEach(function (n) {
      n.parentNode.removeChild(n);
    });
    var lastDay = null;
    var unreadDrawn = false;
    Array.prototype.slice.call(els.list.querySelectorAll("li.message")).forEach(function (node) {
      var m = node._message;
      var day = dayKey(m.created_at);
      var top = node.firstChild;
      if (!unreadDrawn && state.unreadAfter !== null && m.id > state.unreadAfter &&
          m.author.username !== me && !m.deleted) {
        var line = el("div", "unread-line");
        line.id = "unread-line";
        line.appendChild(el("span", null, "ここから未読"));
        node.insertBefore(line, top);
        top = line;
        unreadDrawn = true;
      }
      if (day !== lastDay) {
        var sep = el("div", "day-separator");
        sep.appendChild(el("h3", "day-label", warekiDay(jstParts(m.created_at))));
        node.insertBefore(sep, top);
        lastDay = day;
      }
    });
    els.jump.hidden = state.jumped || !unreadDrawn && !(state.unreadAfter !== null && !els.older.hidden &&
      state.firstId !== null && state.firstId > state.unreadAfter + 1);
  }

  // Page back until the first unread message is loaded, then bring it into view with focus on it.
  function jumpToUnread(pagesLeft) {
    var line = document.getElementById("unread-line");
    var olderUnread = !els.older.hidden && state.firstId !== null && state.firstId > state.unreadAfter + 1;
    if (line && !olderUnread || pagesLeft <= 0) {
      if (!line) { return; }
      var first = line.closest("li.message");
      first.tabIndex = -1;
      first.scrollIntoView({ block: "center" });
      first.focus();
      state.jumped = true;  // done: the line itself stays to show where reading resumed
      els.jump.hidden = true;
      return;
    }
    loadOlder().then(function (more) { jumpToUnread(more ? pagesLeft - 1 : 0); });
  }

  function refreshReadCounts() {
    Array.prototype.forEach.call(root.querySelectorAll("li.message"), function (li) {
      var button = li.querySelector(".read-count");
      if (button && li._message) { button.textContent = "既読 " + readCount(li._message); }
    });
  }

  function scrollToEnd() {
    els.list.scrollTop = els.list.scrollHeight;
    // On a phone the page itself scrolls: follow new messages only when already at the bottom.
    var page = document.documentElement;
    if (els.list.scrollHeight <= els.list.clientHeight + 1 &&
        window.innerHeight + window.scrollY >= page.scrollHeight - 200) {
      window.scrollTo(0, page.scrollHeight);
    }
  }

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
      recountStaleThreads(channelId);
      scrollToEnd();
      markRead();
    });
  }

  // Replies that came in a catch-up may have missed their thread:updated: ask for the true count.
  function recountStaleThreads(channelId) {
    var stale = Object.keys(state.staleThreads).map(Number);
    state.staleThreads = {};
    stale.forEach(function (parentId) {
      ws.api("GET", "/messages/" + parentId + "/thread").then(function (r) {
        if (r.status === 200 && channelId === state.current) { setReplyCount(parentId, r.data.parent.reply_count); }
      });
    });
  }

  function selectChannel(id) {
    state.current = id;
    state.opening = id;
    state.lastId = 0;
    state.firstId = null;
    state.shown = {};
    state.buffer = [];
    state.syncing = true;
    state.replyCounts = {};
    state.staleThreads = {};
    state.unreadAfter = null;
    state.jumped = false;
    closeThread(false);
    els.jump.hidden = true;
    els.list.textContent = "";
    els.typing.textContent = "";
    var channel = state.channels[id];
    els.title.textContent = channel ? channel.name : "";
    if (peopleUi) { peopleUi.channelShown(channel); }  // chat-people.js hook: 説明 and 退出
    renderChannels();
    return ws.api("GET", "/channels/" + id).then(function (r) {
      if (r.status !== 200) { if (state.opening === id) { state.opening = null; } return; }
      // An archived channel (opened by its link; the list leaves it out) is read-only: no composer.
      if (id === state.current) {
        if (!channel) { els.title.textContent = r.data.name; }
        els.archived.hidden = !r.data.archived;
        els.form.hidden = !!r.data.archived;
        els.threadForm.hidden = !!r.data.archived;
        root.classList.toggle("is-archived", !!r.data.archived);
      }
      state.positions = {};
      r.data.members.forEach(function (m) { state.positions[m.username] = m.last_read_id; });
      state.members = r.data.members;
      state.unreadAfter = r.data.unread > 0 ? r.data.last_read_id : null;
      return ws.api("GET", "/channels/" + id + "/messages?limit=" + PAGE);
    }).then(function (r) {
      if (state.opening === id) { state.opening = null; }
      if (!r || r.status !== 200 || id !== state.current) { return; }
      els.older.hidden = r.data.messages.length < PAGE;
      r.data.messages.forEach(append);
      state.staleThreads = {};  // this page's reply counts are already current
      return catchUp(id);
    });
  }

  function loadOlder() {
    if (state.current === null || state.firstId === null) { return Promise.resolve(false); }
    var id = state.current;
    return ws.api("GET", "/channels/" + id + "/messages?before=" + state.firstId + "&limit=" + PAGE).then(function (r) {
      if (r.status !== 200 || id !== state.current) { return false; }
      els.older.hidden = r.data.messages.length < PAGE;
      r.data.messages.forEach(append);
      state.staleThreads = {};  // older pages carry their own reply counts
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
    // A reply that lives only in its thread is loaded but not drawn: open its thread on it.
    if (state.shown[messageId]) { revealInThread(messageId); return; }
    if (pagesLeft <= 0 || state.firstId === null || messageId > state.firstId) {
      showError("リンク先のメッセージは表示できません（削除されたか、保存期間を過ぎた可能性があります）。");
      return;
    }
    loadOlder().then(function (more) {
      if (more) { reveal(messageId, pagesLeft - 1); } else { reveal(messageId, 0); }
    });
  }

  function revealInThread(messageId) {
    ws.api("GET", "/messages/" + messageId + "/thread").then(function (r) {
      if (r.status !== 200) { return; }
      var opener = document.querySelector('#message-' + Number(r.data.parent.id) + ' .reply-button');
      openThread(r.data.parent.id, opener).then(function () {
        var node = document.getElementById("thread-message-" + messageId);
        if (!node) { return; }
        node.classList.add("message-target");
        node.tabIndex = -1;
        node.scrollIntoView({ block: "center" });
        node.focus();
      });
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
    if (state.current === null) { return; }
    if (!body.trim()) {
      // Say why nothing happened (the error line is an alert: a screen reader hears it too).
      showError("メッセージを入力してください。");
      els.input.focus();
      return;
    }
    var payload = { channel_id: state.current, body: body, client_msg_id: newClientId() };
    showError("");
    // Clear at once so the next message can be typed; a refused one is put back if the box is still empty.
    els.input.value = "";
    deliver(payload, function (result) {
      if (result.ok) {
        append(result.message);
        scrollToEnd();
      } else {
        if (!els.input.value) { els.input.value = body; }
        showError(result.error && result.error.message ? result.error.message : "送信できませんでした。");
      }
    });
  }

  // Over the socket when it is up, else over HTTP; the same client_msg_id makes a double send harmless.
  function deliver(payload, done) {
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
        els.file.dispatchEvent(new Event("change"));  // file-input.js: its line says nothing is chosen
        append(r.data);
        scrollToEnd();
      });
    }).catch(function (error) { showError(error.message); });
  }

  // --- editing in place, deleting after a confirmation ---------------------------------------
  function startEdit(id, opener) {
    var node = opener ? opener.closest("li.message") : nodesFor(id)[0];
    if (!node || !node._message || node._editing) { return; }
    var m = node._message;
    node._editing = true;
    var body = node.querySelector(".message-body");
    var tools = node.querySelector(".message-tools");
    var form = el("form", "message-editor");
    form.noValidate = true;
    var box = el("textarea", "message-edit-input");
    box.value = m.body;
    box.rows = Math.min(8, Math.max(2, m.body.split("\n").length));
    box.setAttribute("aria-label", "メッセージを編集");
    var error = el("p", "field-error");
    error.setAttribute("role", "alert");
    var actions = el("div", "editor-actions");
    var save = el("button", "primary", "保存");
    save.type = "submit";
    var cancel = toolButton("キャンセル", function () { finishEdit(node, null); });
    actions.appendChild(save);
    actions.appendChild(cancel);
    form.appendChild(box);
    form.appendChild(el("p", "composer-help", "Esc でキャンセル"));
    form.appendChild(error);
    form.appendChild(actions);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!box.value.trim()) { error.textContent = "メッセージを入力してください。"; box.focus(); return; }
      save.disabled = true;
      ws.api("PATCH", "/messages/" + m.id, { body: box.value }).then(function (r) {
        save.disabled = false;
        if (r.status === 200) { finishEdit(node, r.data); return; }
        error.textContent = r.data && r.data.error ? r.data.error.message : "保存できませんでした。";
      });
    });
    box.addEventListener("keydown", function (event) {
      // Enter is a new line here (a message may have several); Esc gives up the edit.
      // (preventDefault also tells the thread panel that this Esc is taken.)
      if (event.key === "Escape" && !event.isComposing) { event.preventDefault(); finishEdit(node, null); }
    });
    body.hidden = true;
    if (tools) { tools.hidden = true; }
    body.parentNode.insertBefore(form, body.nextSibling);
    box.focus();
    box.setSelectionRange(box.value.length, box.value.length);
  }

  // Close the editor (saved: the message as the server now has it) and give focus back to 編集.
  function finishEdit(node, saved) {
    var m = saved ? Object.assign({}, node._message, saved) : node._message;
    node._editing = false;
    if (!node.parentNode) { return; }
    var fresh = messageNode(m, node._where);
    node.parentNode.replaceChild(fresh, node);
    if (saved) { replace(m); } else { decorate(); }  // replace: its other drawing, if any
    var edit = fresh.querySelector(".edit-button");
    if (edit) { edit.focus(); }
  }

  function confirmDelete(id, opener) {
    state.deleting = { id: id, opener: opener };
    if (els.deleteDialog.showModal) { els.deleteDialog.showModal(); } else { els.deleteDialog.setAttribute("open", ""); }
    els.deleteCancel.focus();  // the safe choice has the focus
  }

  function closeDeleteDialog() {
    var pending = state.deleting;
    state.deleting = null;
    if (els.deleteDialog.open) { els.deleteDialog.close(); }
    if (pending && pending.opener && pending.opener.isConnected) { pending.opener.focus(); }
  }

  els.deleteCancel.addEventListener("click", closeDeleteDialog);
  els.deleteDialog.addEventListener("close", function () { if (state.deleting) { closeDeleteDialog(); } });
  els.deleteConfirm.addEventListener("click", function () {
    var pending = state.deleting;
    state.deleting = null;
    els.deleteDialog.close();
    if (!pending) { return; }
    ws.api("DELETE", "/messages/" + pending.id).then(function (r) {
      if (r.status !== 204) { showError(r.data && r.data.error ? r.data.error.message : "削除できませんでした。"); }
      els.input.focus();
    });
  });

  function fillList(list, people, withTime) {
    list.textContent = "";
    if (!people.length) { list.appendChild(el("li", null, "なし")); }
    people.forEach(function (p) {
      list.appendChild(el("li", null, p.display_name + (withTime && p.read_at ? "（" + momentText(p.read_at) + "）" : "")));
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
    if (event.key !== "Enter" || event.shiftKey || COARSE.matches) { return; }
    event.preventDefault();
    send();
  });
  els.input.addEventListener("input", function () {
    if (els.error.textContent) { showError(""); }
    var now = Date.now();
    if (state.current !== null && now - state.lastTyping > TYPING_EVERY_MS && socket.connected) {
      state.lastTyping = now;
      socket.emit("typing", { channel_id: state.current });
    }
  });
  els.form.addEventListener("submit", function (event) { event.preventDefault(); send(); });
  // --- the thread panel: a parent, its replies in order, and a reply composer ------------------
  function setReplyCount(parentId, n) {
    state.replyCounts[parentId] = n;
    // In place, not redrawn: whoever has focus on that message keeps it while others reply.
    nodesFor(parentId).forEach(function (node) {
      if (node._where !== "timeline" || !node._message || node._message.thread_id) { return; }
      node._message.reply_count = n;
      var tools = node.querySelector(".message-tools");
      var anchor = tools && tools.querySelector(".reply-button");
      if (!anchor) { return; }
      var count = tools.querySelector(".reply-count");
      if (n > 0 && !count) {
        count = toolButton("", function () { openThread(parentId, count); }, "reply-count");
        tools.insertBefore(count, anchor.nextSibling);
      }
      if (n > 0) { count.textContent = "返信 " + n + "件"; } else if (count) { tools.removeChild(count); }
    });
    if (state.thread === parentId) { els.threadCount.textContent = n > 0 ? "返信 " + n + "件" : "返信はまだありません"; }
  }

  // Only replies of the open thread come here (append checks thread_id), in id order.
  function appendReply(m) {
    if (state.threadShown[m.id] || m.thread_id !== state.thread) { return; }
    state.threadShown[m.id] = true;
    if (m.reactions) { state.reactions[m.id] = m.reactions; }
    var after = null;
    Array.prototype.some.call(els.threadList.children, function (child) {
      if (Number(child.dataset.id) > m.id) { after = child; return true; }
      return false;
    });
    els.threadList.insertBefore(messageNode(m, "reply"), after);
  }

  function openThread(parentId, opener) {
    closePicker(false);
    state.thread = parentId;
    state.threadShown = {};
    state.threadOpener = opener || null;
    els.threadParent.textContent = "";
    els.threadList.textContent = "";
    els.threadCount.textContent = "";
    els.threadError.textContent = "";
    els.threadBroadcast.checked = false;
    els.thread.hidden = false;
    root.classList.add("thread-open");
    document.body.classList.add("chat-thread-open");
    // On a phone the keyboard would cover the thread at once: start on its heading instead.
    if (COARSE.matches) { document.getElementById("thread-title").focus(); } else { els.threadInput.focus(); }
    return ws.api("GET", "/messages/" + parentId + "/thread").then(function (r) {
      if (state.thread !== parentId) { return; }
      if (r.status !== 200) {
        els.threadError.textContent = r.data && r.data.error ? r.data.error.message : "スレッドを表示できません。";
        return;
      }
      if (r.data.parent.reactions) { state.reactions[parentId] = r.data.parent.reactions; }
      els.threadParent.appendChild(messageNode(r.data.parent, "parent"));
      r.data.replies.forEach(appendReply);
      setReplyCount(parentId, r.data.parent.reply_count);
    });
  }

  function closeThread(focusBack) {
    if (state.thread === null) { return; }
    var opener = state.threadOpener;
    state.thread = null;
    state.threadShown = {};
    state.threadOpener = null;
    els.thread.hidden = true;
    root.classList.remove("thread-open");
    document.body.classList.remove("chat-thread-open");
    if (!focusBack) { return; }
    if (opener && opener.isConnected) { opener.focus(); } else { els.input.focus(); }
  }

  function sendReply() {
    if (state.thread === null || state.current === null) { return; }
    var body = els.threadInput.value;
    if (!body.trim()) {
      els.threadError.textContent = "メッセージを入力してください。";
      els.threadInput.focus();
      return;
    }
    var payload = {
      channel_id: state.current, body: body, thread_id: state.thread,
      also_in_channel: els.threadBroadcast.checked, client_msg_id: newClientId()
    };
    els.threadError.textContent = "";
    els.threadInput.value = "";
    deliver(payload, function (result) {
      if (result.ok) {
        els.threadBroadcast.checked = false;
        append(result.message);
        if (result.message.also_in_channel) { scrollToEnd(); }
      } else {
        if (!els.threadInput.value) { els.threadInput.value = body; }
        els.threadError.textContent = result.error && result.error.message ? result.error.message : "送信できませんでした。";
      }
    });
  }

  els.threadForm.addEventListener("submit", function (event) { event.preventDefault(); sendReply(); });
  els.threadInput.addEventListener("compositionstart", function () { state.composing = true; });
  els.threadInput.addEventListener("compositionend", function () {
    setTimeout(function () { state.composing = false; }, 0);
  });
  els.threadInput.addEventListener("keydown", function (event) {
    if (event.isComposing || state.composing || event.keyCode === 229) { return; }
    if (event.key !== "Enter" || event.shiftKey || COARSE.matches) { return; }
    event.preventDefault();
    sendReply();
  });
  els.threadInput.addEventListener("input", function () { els.threadError.textContent = ""; });
  els.threadClose.addEventListener("click", function () { closeThread(true); });
  els.thread.addEventListener("keydown", function (event) {
    // An Esc already used (an editor, the reaction picker) does not also close the panel.
    if (event.key === "Escape" && !event.defaultPrevented && !event.isComposing) {
      event.preventDefault();
      closeThread(true);
    }
  });
  els.jump.addEventListener("click", function () { jumpToUnread(MAX_REVEAL_PAGES); });

  // --- phone: touch keyboards, and a composer kept above the on-screen keyboard ----------------
  function applyPointer() {
    els.help.textContent = COARSE.matches ? "Enter で改行、「送信」ボタンで送信" : "Enter で送信、Shift+Enter で改行";
    els.threadHelp.textContent = COARSE.matches ? "Enter で改行、「スレッドに送信」ボタンで送信" : "Enter で送信、Shift+Enter で改行";
  }
  applyPointer();
  if (COARSE.addEventListener) { COARSE.addEventListener("change", applyPointer); }

  // The visual viewport shrinks when the keyboard opens, the layout viewport does not: lift the
  // sticky composer by the covered height (CSS --keyboard-inset).
  function keyboardInset() {
    var vv = window.visualViewport;
    if (!vv) { return; }
    var covered = Math.max(0, window.innerHeight - vv.height - vv.offsetTop);
    document.documentElement.style.setProperty("--keyboard-inset", Math.round(covered) + "px");
  }
  if (window.visualViewport) {
    window.visualViewport.addEventListener("resize", keyboardInset);
    window.visualViewport.addEventListener("scroll", keyboardInset);
  }
  [els.input, els.threadInput].forEach(function (box) {
    box.addEventListener("focus", function () {
      if (!COARSE.matches) { return; }
      setTimeout(function () { box.scrollIntoView({ block: "nearest" }); }, 250);  // after the keyboard opened
    });
  });

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
      // A reply only in its thread is not unread in the channel (as the server counts it).
      if (m.author.username !== me && inTimeline(m)) { state.channels[m.channel_id].unread += 1; }
      renderChannels();
    } else {
      loadChannels();  // a channel we were just added to
    }
    if (m.author.username !== me) { notifyHidden(m); }
  });
  socket.on("message:edited", function (m) { if (m.channel_id === state.current) { replace(m); } });
  socket.on("thread:updated", function (p) {
    // The server's count, not an increment: applied at once, even while catching up.
    if (p.channel_id === state.current) { setReplyCount(p.thread_id, p.reply_count); }
  });
  socket.on("reaction:updated", function (p) {
    if (p.channel_id !== state.current) { return; }
    state.reactions[p.message_id] = p.reactions;
    redraw(p.message_id);
  });
  socket.on("pin:updated", function (p) {
    if (p.channel_id !== state.current) { return; }
    nodesFor(p.message_id).forEach(function (node) {
      if (node._message) { node._message.pinned_at = p.pinned ? p.pinned_at : null; }
    });
    redraw(p.message_id);
  });
  socket.on("message:deleted", function (p) {
    var node = nodesFor(p.id)[0];
    if (node && node._message) {
      var m = Object.assign({}, node._message, { deleted: true, body: "" });
      nodesFor(p.id).forEach(function (n) { n._editing = false; });
      replace(m);
      decorate();
    }
  });
  socket.on("messages:purged", function (p) {
    if (p.channel_id !== state.current) { return; }
    p.ids.forEach(function (id) {
      nodesFor(id).forEach(function (node) { node.parentNode.removeChild(node); });
    });
    var first = els.list.querySelector("li.message");
    state.firstId = first ? Number(first.dataset.id) : null;
    decorate();
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
    // Not while the channel is still opening: that catch-up would start from nothing and mark the
    // channel read before its read position was fetched, so ここから未読 would never be drawn.
    if (state.current !== null && state.opening !== state.current) { catchUp(state.current); }
  });
  socket.on("disconnect", function () { if (state.current !== null) { state.syncing = true; } });
  document.addEventListener("visibilitychange", function () {
    if (socket.connected) { socket.emit("presence", { status: document.hidden ? "away" : "online" }); }
    if (!document.hidden) { markRead(); }
  });

  // Desktop notifications are for desk PCs: a phone gets none, so it offers no button for them.
  if ("Notification" in window && Notification.permission === "default" && !COARSE.matches) {
    els.notify.hidden = false;
    els.notify.addEventListener("click", function () {
      Notification.requestPermission().then(function () { els.notify.hidden = true; });
    });
  }

  loadChannels().then(function () {
    var target = linkTarget();
    var openTarget = function () {
      selectChannel(target.channel).then(function () {
        if (target.message !== null) { reveal(target.message, MAX_REVEAL_PAGES); }
      });
    };
    if (target.channel !== null && state.channels[target.channel]) {
      openTarget();
    } else if (target.channel !== null) {
      // Not in the list: an archived channel of mine opens read-only; anything else opens the default.
      ws.api("GET", "/channels/" + target.channel).then(function (r) {
        if (r.status === 200 && r.data.archived) { openTarget(); } else { openDefault(); }
      });
    } else {
      openDefault();
    }
  });
  function openDefault() {
    var ids = Object.keys(state.channels).map(Number);
    if (ids.length) {
      // An unknown or foreign channel in the link opens the default channel: nothing about it is shown.
      var department = ids.filter(function (id) { return state.channels[id].kind === "department"; })[0];
      selectChannel(department !== undefined ? department : ids[0]);
    }
  }
})();
