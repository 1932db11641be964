// Intake form: a search-as-you-type picker over the category <select>. It matches the full path
// (分类 › 子类), the pinyin and its initials (ldbl → 路灯不亮), lists the operator's recent
// categories first, and works from the keyboard alone: arrows move, Enter chooses, Esc closes.
// The <select> stays in the form, visually hidden, and keeps the value: without this script the
// form works as before. Plain JS, no inline script.
(function () {
  "use strict";
  var select = document.getElementById("category");
  var box = select && select.closest(".category-field");
  if (!select || !box) { return; }

  var SHOWN = 12;
  var options = Array.prototype.slice.call(select.options).filter(function (o) { return o.value; });
  var recent = (box.dataset.recent || "").split(" ").filter(Boolean);
  var known = JSON.parse(box.dataset.categories || "{}"); // code → [path, pinyin, the name's pinyin]
  var squash = function (text) { return (text || "").toLowerCase().replace(/[\s›]+/g, ""); };
  var entries = options.map(function (option, order) {
    var data = known[option.value] || [option.textContent.trim(), "", ""];
    var path = data[0];
    return {
      code: option.value,
      path: path,
      leaf: squash(path.split("›").pop()),
      leafKeys: data[2].split(" ").filter(Boolean),
      keys: [squash(path)].concat(data[1].split(" ").filter(Boolean)),
      recent: recent.indexOf(option.value),
      order: order
    };
  });
  var byCode = {};
  entries.forEach(function (entry) { byCode[entry.code] = entry; });

  // The search box, with the select's label; the select leaves the tab order.
  var input = document.createElement("input");
  input.type = "text";
  input.id = "category-search";
  input.className = "form-control form-control-sm" + (select.classList.contains("is-invalid") ? " is-invalid" : "");
  input.autocomplete = "off";
  input.spellcheck = false;
  input.placeholder = box.dataset.placeholder || "";
  input.setAttribute("role", "combobox");
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-expanded", "false");
  input.setAttribute("aria-controls", "category-options");
  var list = document.createElement("ul");
  list.id = "category-options";
  list.className = "list-group category-options shadow-sm";
  list.setAttribute("role", "listbox");
  list.hidden = true;
  var wrapper = document.createElement("div");
  wrapper.className = "category-picker position-relative";
  wrapper.append(input, list);
  select.before(wrapper);
  select.classList.add("visually-hidden");
  select.tabIndex = -1;
  select.setAttribute("aria-hidden", "true");
  var label = box.querySelector("label[for='category']");
  if (label) { label.htmlFor = input.id; }
  if (input.autofocus || select.autofocus) { input.focus(); }

  var shown = [];
  var active = -1;
  var pathOf = function (code) { return byCode[code] ? byCode[code].path : ""; };
  var showChosen = function () {
    input.value = pathOf(select.value);
    input.title = input.value;
  };

  // How well an entry answers every typed word: 0 the name starts with it, 1 the name holds it,
  // 2 the path holds it; null if a word is found nowhere.
  var rank = function (entry, words) {
    var total = 0;
    for (var i = 0; i < words.length; i++) {
      var word = words[i];
      var leafKeys = [entry.leaf].concat(entry.leafKeys);
      if (leafKeys.some(function (key) { return key.indexOf(word) === 0; })) { continue; }
      if (leafKeys.some(function (key) { return key.indexOf(word) > 0; })) { total += 1; continue; }
      if (entry.keys.some(function (key) { return key.indexOf(word) >= 0; })) { total += 2; continue; }
      return null;
    }
    return total;
  };

  var matches = function (query) {
    var words = query.toLowerCase().split(/[\s›]+/).filter(Boolean);
    if (!words.length) {
      return recent.map(function (code) { return byCode[code]; }).filter(Boolean);
    }
    var found = [];
    entries.forEach(function (entry) {
      var score = rank(entry, words);
      if (score !== null) { found.push({ entry: entry, score: score }); }
    });
    found.sort(function (a, b) {
      var ra = a.entry.recent < 0 ? Infinity : a.entry.recent;
      var rb = b.entry.recent < 0 ? Infinity : b.entry.recent;
      return (ra - rb) || (a.score - b.score) || (a.entry.order - b.entry.order);
    });
    return found.map(function (item) { return item.entry; });
  };

  var item = function (className, text) {
    var node = document.createElement("li");
    node.className = "list-group-item py-1 small " + className;
    node.textContent = text;
    return node;
  };

  var close = function () {
    list.hidden = true;
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
    active = -1;
  };

  var highlight = function (index) {
    var nodes = list.querySelectorAll("[role=option]");
    if (!nodes.length) { active = -1; return; }
    active = (index + nodes.length) % nodes.length;
    nodes.forEach(function (node, i) {
      node.classList.toggle("active", i === active);
      node.setAttribute("aria-selected", i === active ? "true" : "false");
    });
    input.setAttribute("aria-activedescendant", nodes[active].id);
    nodes[active].scrollIntoView({ block: "nearest" });
  };

  var open = function () {
    var query = input.value === pathOf(select.value) ? "" : input.value.trim();
    var found = matches(query);
    shown = found.slice(0, SHOWN);
    list.replaceChildren();
    if (!query && shown.length) {
      list.append(item("category-options-head text-body-secondary", box.dataset.recentLabel));
    }
    shown.forEach(function (entry, i) {
      var node = item("list-group-item-action category-option" + (entry.recent >= 0 ? " recent" : ""), "");
      node.id = "category-option-" + i;
      node.dataset.code = entry.code;
      node.setAttribute("role", "option");
      var parts = entry.path.split(" › ");
      var leaf = document.createElement("strong");
      leaf.textContent = parts.pop();
      node.append(parts.length ? parts.join(" › ") + " › " : "", leaf);
      // mousedown, not click: it comes before the box loses focus (and the list would close).
      node.addEventListener("mousedown", function (event) { event.preventDefault(); choose(entry); });
      list.append(node);
    });
    if (query && !shown.length) {
      list.append(item("text-body-secondary", box.dataset.none));
    } else if (found.length > shown.length) {
      list.append(item("text-body-secondary", box.dataset.more));
    }
    list.hidden = !list.children.length;
    input.setAttribute("aria-expanded", list.hidden ? "false" : "true");
    highlight(0);
  };

  var choose = function (entry) {
    if (select.value !== entry.code) {
      select.value = entry.code;
      select.dispatchEvent(new Event("change", { bubbles: true })); // duplicates, knowledge
    }
    input.classList.remove("is-invalid");
    showChosen();
    close();
  };

  input.addEventListener("input", open);
  input.addEventListener("focus", function () { input.select(); open(); });
  input.addEventListener("blur", function () { close(); showChosen(); });
  input.addEventListener("keydown", function (event) {
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      if (list.hidden) { open(); return; }
      highlight(active + (event.key === "ArrowDown" ? 1 : -1));
    } else if (event.key === "Enter") {
      event.preventDefault(); // Enter picks a category; it never submits the form from here
      if (list.hidden) { open(); return; }
      if (active >= 0 && shown[active]) { choose(shown[active]); }
    } else if (event.key === "Escape") {
      if (!list.hidden) { event.preventDefault(); close(); showChosen(); input.select(); }
    }
  });
  // Another script (the knowledge panel's "answer with this") or a test may set the select.
  select.addEventListener("change", showChosen);
  showChosen();
})();
