// The person picker (templates/workspace/_person_picker.html): a text box with the ARIA 1.2 combobox
// pattern over GET /api/v1/users. Typing searches 氏名, 読み, ユーザー名 and 課; ↑↓ move through the
// candidates, Enter chooses, Esc closes the list (or clears the text). Each candidate shows 氏名, 課 and
// 役職, never only a login ID. The chosen usernames travel in hidden inputs named by data-name, so a
// plain form post works; scripts may use PersonPicker.of(element) instead. All text is set with
// textContent.
(function () {
  "use strict";
  var DEBOUNCE_MS = 150;
  var LIMIT = 10;

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function unitText(person) {
    var parts = [];
    if (person.department && person.department.name) { parts.push(person.department.name); }
    if (person.title) { parts.push(person.title); }
    return parts.join("・");
  }

  function Picker(root) {
    this.root = root;
    this.input = root.querySelector("[role=combobox]");
    this.list = root.querySelector("[role=listbox]");
    this.status = root.querySelector(".person-picker-status");
    this.error = root.querySelector(".field-error");
    this.values = root.querySelector(".person-picker-values");
    this.chosenList = root.querySelector(".person-chosen");
    this.name = root.dataset.name;
    this.multiple = root.dataset.multiple === "1";
    this.exclude = (root.dataset.exclude || "").split(",").filter(Boolean);
    this.items = [];
    this.active = -1;
    this.chosen = [];
    this.seq = 0;
    this.timer = null;
    this.prefix = this.input.id + "-option-";
    this.bind();
  }

  Picker.prototype.bind = function () {
    var self = this;
    this.input.addEventListener("input", function () {
      self.chooseWhenReady = false;
      if (!self.multiple && self.chosen.length) { self.setChosen([]); }  // typing again replaces the choice
      self.showError("");
      clearTimeout(self.timer);
      self.timer = setTimeout(function () { self.search(); }, DEBOUNCE_MS);
    });
    this.input.addEventListener("keydown", function (event) { self.key(event); });
    this.input.addEventListener("blur", function () { setTimeout(function () { self.close(); }, 150); });
    var form = this.root.closest("form");
    if (form && this.root.dataset.required === "1") {
      form.addEventListener("submit", function (event) {
        if (self.chosen.length) { return; }
        event.preventDefault();
        self.showError(self.root.dataset.requiredMessage);
        self.input.focus();
      });
    }
  };

  Picker.prototype.showError = function (text) {
    if (this.error) { this.error.textContent = text || ""; }
    if (text) { this.input.setAttribute("aria-invalid", "true"); } else { this.input.removeAttribute("aria-invalid"); }
  };

  Picker.prototype.search = function () {
    var self = this;
    var query = this.input.value.trim();
    if (!query) { this.close(); this.status.textContent = ""; this.chooseWhenReady = false; return Promise.resolve(); }
    var seq = ++this.seq;
    var url = "/api/v1/users?limit=" + LIMIT + "&q=" + encodeURIComponent(query);
    return fetch(url, { credentials: "same-origin", headers: { Accept: "application/json" } }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (data) { return { status: r.status, data: data }; });
    }).then(function (r) {
      if (seq !== self.seq) { return; }  // an older answer arriving late must not replace a newer one
      if (r.status !== 200) {
        self.close();
        self.status.textContent = r.data.error && r.data.error.message ? r.data.error.message : "職員を検索できませんでした。";
        return;
      }
      var taken = self.exclude.concat(self.chosen.map(function (p) { return p.username; }));
      self.items = r.data.users.filter(function (p) { return taken.indexOf(p.username) < 0; });
      self.active = self.items.length ? 0 : -1;
      self.render();
      if (self.chooseWhenReady && self.items.length) { self.choose(0); }
      self.chooseWhenReady = false;
    }).catch(function () {
      if (seq === self.seq) { self.close(); self.status.textContent = "職員を検索できませんでした。"; }
    });
  };

  Picker.prototype.render = function () {
    var self = this;
    this.list.textContent = "";
    if (!this.items.length) {
      this.close();
      this.status.textContent = "該当する職員が見つかりません。";
      return;
    }
    this.items.forEach(function (person, i) {
      var li = el("li", "person-option");
      li.id = self.prefix + i;
      li.setAttribute("role", "option");
      li.setAttribute("aria-selected", i === self.active ? "true" : "false");
      li.appendChild(el("span", "person-option-name", person.display_name));
      var unit = unitText(person);
      if (unit) { li.appendChild(el("span", "person-option-meta", unit)); }
      li.addEventListener("mousedown", function (event) { event.preventDefault(); self.choose(i); });
      self.list.appendChild(li);
    });
    this.list.hidden = false;
    this.input.setAttribute("aria-expanded", "true");
    this.input.setAttribute("aria-activedescendant", this.prefix + this.active);
    this.status.textContent = "候補 " + this.items.length + " 人";
    var current = document.getElementById(this.prefix + this.active);
    if (current && current.scrollIntoView) { current.scrollIntoView({ block: "nearest" }); }
  };

  Picker.prototype.close = function () {
    this.list.hidden = true;
    this.list.textContent = "";
    this.items = [];
    this.active = -1;
    this.input.setAttribute("aria-expanded", "false");
    this.input.removeAttribute("aria-activedescendant");
  };

  Picker.prototype.key = function (event) {
    var open = !this.list.hidden && this.items.length > 0;
    if (event.isComposing || event.keyCode === 229) { return; }  // the IME is still converting
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (!open) { this.search(); return; }
      var n = this.items.length;
      this.active = (this.active + (event.key === "ArrowDown" ? 1 : n - 1)) % n;
      this.render();
    } else if (event.key === "Enter") {
      if (open) { event.preventDefault(); this.choose(this.active); return; }
      var typed = this.input.value.trim();
      var settled = !this.multiple && this.chosen.length && this.chosen[0].display_name === typed;
      if (typed && !settled) {
        // Enter before the candidates arrived: take the first one when they do, never submit the form
        // with a half-typed name.
        event.preventDefault();
        clearTimeout(this.timer);
        this.chooseWhenReady = true;
        this.search();
      }
    } else if (event.key === "Escape") {
      if (open) { event.preventDefault(); event.stopPropagation(); this.close(); }
      else if (this.input.value) { event.preventDefault(); event.stopPropagation(); this.input.value = ""; this.status.textContent = ""; }
    } else if (event.key === "Tab") {
      this.close();
    }
  };

  Picker.prototype.choose = function (i) {
    var person = this.items[i];
    if (!person) { return; }
    this.close();
    if (this.multiple) {
      this.input.value = "";
      this.setChosen(this.chosen.concat([person]));
    } else {
      this.input.value = person.display_name;
      this.setChosen([person]);
    }
    var unit = unitText(person);
    this.status.textContent = person.display_name + (unit ? "（" + unit + "）" : "") + " を選びました。";
    this.showError("");
    this.input.focus();
  };

  Picker.prototype.setChosen = function (people) {
    var self = this;
    this.chosen = people;
    this.values.textContent = "";
    people.forEach(function (person) {
      var hidden = document.createElement("input");
      hidden.type = "hidden";
      hidden.name = self.name;
      hidden.value = person.username;
      self.values.appendChild(hidden);
    });
    if (this.chosenList) {
      this.chosenList.textContent = "";
      people.forEach(function (person) {
        var li = el("li");
        var unit = person.department && person.department.name ? "（" + person.department.name + "）" : "";
        li.appendChild(el("span", null, person.display_name + unit));
        var remove = el("button", null, "外す");
        remove.type = "button";
        remove.setAttribute("aria-label", person.display_name + " を外す");
        remove.addEventListener("click", function () {
          self.setChosen(self.chosen.filter(function (p) { return p.username !== person.username; }));
          self.status.textContent = person.display_name + " を外しました。";
          self.input.focus();
        });
        li.appendChild(remove);
        self.chosenList.appendChild(li);
      });
    }
    this.root.dispatchEvent(new CustomEvent("person-picker:change", { bubbles: true, detail: { people: people.slice() } }));
  };

  // Public: the usernames chosen, and a way to start over (a dialog opened again).
  Picker.prototype.usernames = function () { return this.chosen.map(function (p) { return p.username; }); };
  Picker.prototype.reset = function () {
    this.input.value = "";
    this.status.textContent = "";
    this.showError("");
    this.close();
    this.setChosen([]);
  };

  function of(root) {
    if (!root._personPicker) { root._personPicker = new Picker(root); }
    return root._personPicker;
  }

  Array.prototype.forEach.call(document.querySelectorAll("[data-person-picker]"), of);
  window.PersonPicker = { of: of };
})();
