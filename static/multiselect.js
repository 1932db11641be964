// Searchable multi-select: a <select multiple data-searchable> (the assisting departments)
// becomes a search field over its options, with the chosen ones as removable chips. The
// select stays in the form, hidden, and holds the choice: it is what the form submits, so
// without this script the plain Ctrl-click list works as before. Keyboard: type to filter,
// Up/Down to move, Enter to choose or drop, Backspace on an empty field drops the last chip,
// Escape closes the list. Plain JS, no inline script.
(function () {
  "use strict";
  var element = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined) { node.textContent = text; }
    return node;
  };

  var enhance = function (select) {
    var id = (select.id || "multiselect") + "-search";
    var listId = id + "-options";
    var wrap = element("div", "multiselect");
    var chips = element("div", "multiselect-chips");
    var input = element("input", "form-control form-control-sm multiselect-search");
    input.type = "text";
    input.id = id;
    input.autocomplete = "off";
    input.placeholder = select.dataset.placeholder || "";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-expanded", "false");
    input.setAttribute("aria-controls", listId);
    var list = element("ul", "multiselect-options list-group");
    list.id = listId;
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-multiselectable", "true");
    list.hidden = true;
    wrap.append(chips, input, list);
    select.hidden = true;
    select.tabIndex = -1;
    select.after(wrap);
    var label = select.id ? document.querySelector('label[for="' + select.id + '"]') : null;
    if (label) { label.htmlFor = id; }

    var options = Array.prototype.slice.call(select.options).filter(function (o) { return o.value; });
    var shown = [];
    var active = -1;

    var matches = function (option, query) {
      if (!query) { return true; }
      return option.text.toLowerCase().indexOf(query) !== -1 || option.value.toLowerCase().indexOf(query) !== -1;
    };

    var renderChips = function () {
      chips.replaceChildren();
      options.forEach(function (option) {
        if (!option.selected) { return; }
        var chip = element("span", "badge text-bg-secondary multiselect-chip", option.text);
        chip.dataset.value = option.value;
        var remove = element("button", "btn-close btn-close-white ms-1 align-middle");
        remove.type = "button";
        remove.setAttribute("aria-label", (select.dataset.remove || "Remove") + " " + option.text);
        remove.addEventListener("click", function () { toggle(option); input.focus(); });
        chip.append(remove);
        chips.append(chip);
      });
    };

    var renderList = function () {
      var query = input.value.trim().toLowerCase();
      shown = options.filter(function (o) { return !o.disabled && matches(o, query); });
      if (active >= shown.length) { active = shown.length - 1; }
      list.replaceChildren();
      if (!shown.length) {
        list.append(element("li", "list-group-item small text-body-secondary", select.dataset.none || ""));
      }
      shown.forEach(function (option, index) {
        var item = element("li", "list-group-item list-group-item-action small py-1 multiselect-option", option.text);
        item.id = listId + "-" + index;
        item.dataset.value = option.value;
        item.setAttribute("role", "option");
        item.setAttribute("aria-selected", option.selected ? "true" : "false");
        if (option.selected) { item.classList.add("chosen"); }
        if (index === active) { item.classList.add("active"); }
        // mousedown, not click: the field must keep the focus (its blur closes the list).
        item.addEventListener("mousedown", function (event) { event.preventDefault(); toggle(option); });
        list.append(item);
      });
      if (active >= 0 && shown[active]) {
        input.setAttribute("aria-activedescendant", listId + "-" + active);
        var current = list.children[active];
        if (current && current.scrollIntoView) { current.scrollIntoView({ block: "nearest" }); }
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    };

    var open = function (yes) {
      list.hidden = !yes;
      input.setAttribute("aria-expanded", yes ? "true" : "false");
      if (yes) { renderList(); }
    };

    var toggle = function (option) {
      option.selected = !option.selected;
      select.dispatchEvent(new Event("change", { bubbles: true }));
      renderChips();
      if (!list.hidden) { renderList(); }
    };

    input.addEventListener("focus", function () { open(true); });
    input.addEventListener("blur", function () { open(false); active = -1; });
    input.addEventListener("input", function () { active = 0; open(true); });
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" || event.key === "ArrowUp") {
        event.preventDefault();
        if (list.hidden) { open(true); }
        var step = event.key === "ArrowDown" ? 1 : -1;
        active = Math.max(0, Math.min(shown.length - 1, active + step));
        renderList();
      } else if (event.key === "Enter") {
        if (!list.hidden && shown[active]) {
          event.preventDefault(); // choose, do not submit the form
          toggle(shown[active]);
          input.value = "";
          renderList();
        }
      } else if (event.key === "Escape") {
        if (!list.hidden) { event.preventDefault(); open(false); }
      } else if (event.key === "Backspace" && !input.value) {
        var chosen = options.filter(function (o) { return o.selected; });
        if (chosen.length) { toggle(chosen[chosen.length - 1]); }
      }
    });
    // Another script changed which options may be chosen (static/dispatch.js: the lead).
    select.addEventListener("options-changed", function () {
      renderChips();
      if (!list.hidden) { renderList(); }
    });
    var form = select.closest("form");
    if (form) { form.addEventListener("reset", function () { setTimeout(renderChips, 0); }); }
    renderChips();
  };

  document.querySelectorAll("select[multiple][data-searchable]").forEach(enhance);
})();
