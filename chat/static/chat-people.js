// Channels and people on the chat screen: create a channel (名前, 説明, 公開/非公開), browse public
// channels and join, leave one (after a confirmation), start a DM or group DM with the person picker,
// @mention completion in the composer, and mentions highlighted in message bodies.
//
// chat.js owns the channel list and the messages; it calls in through window.chatPeople.attach(hooks):
//   hooks = {loadChannels() → Promise, selectChannel(id) → Promise, channels() → {id: channel},
//            current() → channel id, members() → [{username, display_name}], renderText(node, text)}
// and gets back {renderBody(node, text), channelShown(channel), composerKey(event) → true if used}.
// Mentions are read by the server's rules (chat/mentions.py). All user text goes in with textContent.
(function () {
  "use strict";
  var ws = window.workspace;
  var root = document.getElementById("chat");
  if (!root || !ws) { return; }
  var me = root.dataset.me;
  var hooks = null;
  var CHANNEL_WIDE = ["channel", "all", "here"];
  var USERNAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}/;
  var WORD_BEFORE = /[A-Za-z0-9._-]/;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function errorText(r, fallback) {
    return r && r.data && r.data.error && r.data.error.message ? r.data.error.message : fallback;
  }

  // --- mentions in a message body ---------------------------------------------------------------
  function nameForms(name) {
    var parts = String(name || "").trim().split(/[\s\u3000]+/).filter(Boolean);
    if (!parts.length) { return []; }
    return [parts.join(" "), parts.join("\u3000"), parts.join("")];
  }

  // What the text names right after the @ at `start`: {length, people} for members, else {length, wide}.
  function mentionAt(text, start, members) {
    var rest = text.slice(start);
    var best = { length: 0, people: [] };
    var wide = null;
    var match = USERNAME.exec(rest);
    var tokens = match ? [match[0], match[0].replace(/[._-]+$/, "")] : [];
    tokens.forEach(function (token) {
      if (!token) { return; }
      var lower = token.toLowerCase();
      if (CHANNEL_WIDE.indexOf(lower) >= 0 && (!wide || token.length > wide.length)) { wide = token; }
      members.forEach(function (p) {
        if (p.username.toLowerCase() === lower && token.length > best.length) { best = { length: token.length, people: [p] }; }
      });
    });
    members.forEach(function (p) {
      nameForms(p.display_name).forEach(function (form) {
        if (rest.indexOf(form) !== 0) { return; }
        if (form.length > best.length) { best = { length: form.length, people: [p] }; }
        else if (form.length === best.length && best.people.indexOf(p) < 0) { best.people.push(p); }
      });
    });
    if (best.length) { return best; }
    return wide ? { length: wide.length, wide: wide } : null;
  }

  function renderBody(container, text) {
    container.textContent = "";
    var members = hooks ? hooks.members() || [] : [];
    var plain = 0;
    function flush(end) {
      if (end <= plain) { return; }
      var holder = document.createElement("span");
      hooks.renderText(holder, text.slice(plain, end));  // chat.js makes the safe links
      while (holder.firstChild) { container.appendChild(holder.firstChild); }
    }
    for (var i = 0; i < text.length; i++) {
      var c = text.charAt(i);
      if ((c !== "@" && c !== "＠") || (i > 0 && WORD_BEFORE.test(text.charAt(i - 1)))) { continue; }
      var found = mentionAt(text, i + 1, members);
      if (!found) { continue; }
      flush(i);
      var span;
      if (found.wide) {
        span = el("span", "mention mention-channel", "@" + found.wide);
      } else {
        var mine = found.people.some(function (p) { return p.username === me; });
        span = el("span", "mention" + (mine ? " mention-me" : ""),
          "@" + found.people.map(function (p) { return p.display_name; }).join("、"));
      }
      container.appendChild(span);
      i += found.length;
      plain = i + 1;
    }
    flush(text.length);
  }

  // --- @mention completion in the composer -------------------------------------------------------
  var input = document.getElementById("composer-input");
  var listbox = document.getElementById("mention-list");
  var mention = null;  // {start, end, items, active} while the list is open
  var seq = 0;
  var timer = null;

  function closeMentions() {
    mention = null;
    seq += 1;  // answers still on their way are for a list nobody wants any more
    listbox.hidden = true;
    listbox.textContent = "";
    input.removeAttribute("aria-activedescendant");
  }

  function unitText(p) {
    return [p.department && p.department.name, p.title].filter(Boolean).join("・");
  }

  function renderMentions() {
    listbox.textContent = "";
    mention.items.forEach(function (item, i) {
      var li = el("li", "mention-option");
      li.id = "mention-option-" + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === mention.active ? "true" : "false");
      li.appendChild(el("span", "mention-option-name", item.label));
      if (item.meta) { li.appendChild(el("span", "mention-option-meta", item.meta)); }
      li.addEventListener("mousedown", function (event) { event.preventDefault(); chooseMention(i); });
      listbox.appendChild(li);
    });
    listbox.hidden = false;
    input.setAttribute("aria-activedescendant", "mention-option-" + mention.active);
  }

  function updateMentions() {
    var caret = input.selectionStart;
    var before = input.value.slice(0, caret);
    var match = /(^|[^A-Za-z0-9._-])[@＠]([^\s@＠]{0,30})$/.exec(before);
    var channel = hooks ? hooks.current() : null;
    if (!match || channel === null || channel === undefined) { closeMentions(); return; }
    var query = match[2];
    var start = caret - query.length - 1;
    var mine = ++seq;
    clearTimeout(timer);
    timer = setTimeout(function () {
      ws.api("GET", "/channels/" + channel + "/members?limit=8&q=" + encodeURIComponent(query)).then(function (r) {
        if (mine !== seq || r.status !== 200) { return; }
        var items = r.data.users.map(function (p) {
          return { label: p.display_name, meta: unitText(p), insert: p.mention };
        });
        if (query === "" || "channel".indexOf(query.toLowerCase()) === 0 || "全員".indexOf(query) === 0) {
          items.push({ label: "@channel", meta: "このチャンネルの全員に通知", insert: "@channel" });
        }
        if (!items.length) { closeMentions(); return; }
        mention = { start: start, end: caret, items: items, active: 0 };
        renderMentions();
      });
    }, 120);
  }

  function chooseMention(i) {
    var item = mention.items[i];
    var value = input.value;
    var text = item.insert + " ";
    input.value = value.slice(0, mention.start) + text + value.slice(mention.end);
    var at = mention.start + text.length;
    closeMentions();
    input.focus();
    input.setSelectionRange(at, at);
  }

  function composerKey(event) {
    if (!mention) { return false; }
    var n = mention.items.length;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      mention.active = (mention.active + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
      renderMentions();
    } else if (event.key === "Enter" || event.key === "Tab") {
      chooseMention(mention.active);
    } else if (event.key === "Escape") {
      closeMentions();
    } else {
      return false;
    }
    event.preventDefault();
    return true;
  }

  if (input && listbox) {
    input.addEventListener("input", function (event) { if (!event.isComposing) { updateMentions(); } });
    input.addEventListener("compositionend", function () { setTimeout(updateMentions, 0); });
    input.addEventListener("blur", function () { setTimeout(closeMentions, 150); });
  }

  // --- dialogs --------------------------------------------------------------------------------
  function byId(id) { return document.getElementById(id); }

  function openDialog(dialog, opener, focus) {
    dialog._opener = opener;
    if (dialog.showModal) { dialog.showModal(); } else { dialog.setAttribute("open", ""); }
    if (focus) { focus.focus(); }
  }

  function closeDialog(dialog, keepFocus) {
    if (dialog.open) { dialog.close(); }
    if (!keepFocus && dialog._opener) { dialog._opener.focus(); }
  }

  Array.prototype.forEach.call(document.querySelectorAll(".chat-dialog"), function (dialog) {
    Array.prototype.forEach.call(dialog.querySelectorAll("[data-close]"), function (button) {
      button.addEventListener("click", function () { closeDialog(dialog); });
    });
  });

  function picker(id) {
    var node = byId(id);
    return node && window.PersonPicker ? window.PersonPicker.of(node.closest("[data-person-picker]")) : null;
  }

  // A channel made, joined or opened: show it in the list and open it.
  function open(channelId) {
    return hooks.loadChannels().then(function () { return hooks.selectChannel(channelId); }).then(function () {
      input.focus();
    });
  }

  // Create
  var create = {
    dialog: byId("channel-create-dialog"),
    form: byId("channel-create-form"),
    name: byId("channel-create-name"),
    description: byId("channel-create-description"),
    error: byId("channel-create-error")
  };
  byId("channel-create-open").addEventListener("click", function (event) {
    create.form.reset();
    create.error.textContent = "";
    create.name.removeAttribute("aria-invalid");
    var members = picker("channel-create-members");
    if (members) { members.reset(); }
    openDialog(create.dialog, event.currentTarget, create.name);
  });
  create.name.addEventListener("input", function () {
    create.error.textContent = "";
    create.name.removeAttribute("aria-invalid");
  });
  create.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var name = create.name.value.trim();
    if (!name) {
      create.error.textContent = "チャンネル名を入力してください。";
      create.name.setAttribute("aria-invalid", "true");
      create.name.focus();
      return;
    }
    var kind = create.form.querySelector("input[name=kind]:checked").value;
    var members = picker("channel-create-members");
    ws.api("POST", "/channels", {
      kind: kind, name: name, description: create.description.value, members: members ? members.usernames() : []
    }).then(function (r) {
      if (r.status !== 201) { create.error.textContent = errorText(r, "チャンネルを作成できませんでした。"); return; }
      closeDialog(create.dialog, true);
      byId("live-region").textContent = "チャンネル「" + r.data.name + "」を作成しました。";
      return open(r.data.id);
    });
  });

  // Browse and join
  var browse = { dialog: byId("channel-browse-dialog"), list: byId("channel-browse-list"), error: byId("channel-browse-error") };
  byId("channel-browse-open").addEventListener("click", function (event) {
    var opener = event.currentTarget;
    browse.error.textContent = "";
    ws.api("GET", "/channels?scope=joinable").then(function (r) {
      browse.list.textContent = "";
      if (r.status !== 200) { browse.error.textContent = errorText(r, "チャンネルを読み込めませんでした。"); }
      var found = r.status === 200 ? r.data.channels : [];
      if (r.status === 200 && !found.length) {
        browse.list.appendChild(el("li", "channel-browse-empty",
          "参加できる公開チャンネルはありません。「＋ チャンネルを作成」から作ることができます。"));
      }
      found.forEach(function (c) {
        var li = el("li", "channel-browse-item");
        var text = el("div", "channel-browse-text");
        text.appendChild(el("h3", "channel-browse-name", c.name));
        if (c.description) { text.appendChild(el("p", "channel-browse-description", c.description)); }
        text.appendChild(el("p", "channel-browse-count", c.member_count + "人が参加"));
        li.appendChild(text);
        var join = el("button", "primary", "参加する");
        join.type = "button";
        join.setAttribute("aria-label", "「" + c.name + "」に参加する");
        join.addEventListener("click", function () {
          ws.api("POST", "/channels/" + c.id + "/join").then(function (answer) {
            if (answer.status !== 200) { browse.error.textContent = errorText(answer, "参加できませんでした。"); return; }
            closeDialog(browse.dialog, true);
            return open(c.id);
          });
        });
        li.appendChild(join);
        browse.list.appendChild(li);
      });
      openDialog(browse.dialog, opener, browse.list.querySelector("button") || browse.dialog.querySelector("[data-close]"));
    });
  });

  // Direct messages
  var dm = { dialog: byId("dm-dialog"), form: byId("dm-form"), error: byId("dm-error") };
  byId("dm-open").addEventListener("click", function (event) {
    var people = picker("dm-people");
    if (people) { people.reset(); }
    dm.error.textContent = "";
    openDialog(dm.dialog, event.currentTarget, byId("dm-people"));
  });
  dm.form.addEventListener("person-picker:change", function () { dm.error.textContent = ""; });
  dm.form.addEventListener("submit", function (event) {
    event.preventDefault();
    var people = picker("dm-people");
    var usernames = people ? people.usernames() : [];
    if (!usernames.length) {
      dm.error.textContent = "相手を1人以上、候補から選んでください。";
      byId("dm-people").focus();
      return;
    }
    ws.api("POST", "/channels", { kind: "direct", members: usernames }).then(function (r) {
      if (r.status !== 201 && r.status !== 200) { dm.error.textContent = errorText(r, "開始できませんでした。"); return; }
      closeDialog(dm.dialog, true);
      return open(r.data.id);
    });
  });

  // The open channel: its 説明, and 退出 for public and private channels
  var description = byId("channel-description");
  var actions = byId("channel-actions");
  var leave = { dialog: byId("channel-leave-dialog"), text: byId("channel-leave-text"), error: byId("channel-leave-error"),
    confirm: byId("channel-leave-confirm"), channel: null };

  function channelShown(channel) {
    actions.textContent = "";
    description.textContent = channel && channel.description ? channel.description : "";
    description.hidden = !description.textContent;
    if (!channel || (channel.kind !== "public" && channel.kind !== "private")) { return; }
    if (channel.kind === "private") { actions.appendChild(el("span", "channel-kind", "非公開")); }
    var button = el("button", null, "退出");
    button.type = "button";
    button.setAttribute("aria-label", "「" + channel.name + "」から退出");
    button.setAttribute("aria-haspopup", "dialog");
    button.addEventListener("click", function () {
      leave.channel = channel;
      leave.error.textContent = "";
      leave.text.textContent = "「" + channel.name + "」から退出しますか？" + (channel.kind === "private"
        ? "非公開チャンネルには、メンバーから招待されるまで戻れません。"
        : "公開チャンネルなので、あとで「チャンネルを探す」からまた参加できます。");
      openDialog(leave.dialog, button, leave.dialog.querySelector("[data-close]"));
    });
    actions.appendChild(button);
  }

  leave.confirm.addEventListener("click", function () {
    var channel = leave.channel;
    if (!channel) { return; }
    ws.api("POST", "/channels/" + channel.id + "/leave").then(function (r) {
      if (r.status !== 204) { leave.error.textContent = errorText(r, "退出できませんでした。"); return; }
      closeDialog(leave.dialog, true);
      byId("live-region").textContent = "「" + channel.name + "」から退出しました。";
      return hooks.loadChannels().then(function () {
        var all = hooks.channels();
        var ids = Object.keys(all).map(Number);
        var department = ids.filter(function (id) { return all[id].kind === "department"; })[0];
        var next = department !== undefined ? department : ids[0];
        if (next !== undefined) { return hooks.selectChannel(next); }
      }).then(function () { input.focus(); });
    });
  });

  window.chatPeople = {
    attach: function (given) {
      hooks = given;
      return { renderBody: renderBody, channelShown: channelShown, composerKey: composerKey };
    }
  };
})();
