// Intake form: show the caller's earlier tickets while the number is typed, the likely
// duplicates while the call is described, and offer the direct answer only for a
// consultation. Plain JS, no inline script (a strict CSP can stay).
(function () {
  "use strict";
  var form = document.getElementById("intake-form");
  var phone = document.getElementById("caller_phone");
  var box = document.getElementById("caller-history");
  var type = document.getElementById("type");
  var answerGroup = document.getElementById("direct-answer-group");
  var answer = document.getElementById("direct_answer");
  var dupes = document.getElementById("likely-duplicates");

  // Run `load` once the typing pauses; only the answer to the latest request counts, so a
  // slow answer never overwrites a newer one.
  var debounced = function (load, delay) {
    var timer = null;
    var latest = 0;
    return function () {
      clearTimeout(timer);
      timer = setTimeout(function () {
        var request = ++latest;
        load(function () { return request === latest; });
      }, delay);
    };
  };

  if (phone && box) {
    phone.addEventListener("input", debounced(function (current) {
      var url = box.dataset.url + "?phone=" + encodeURIComponent(phone.value.trim());
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          if (html !== null && current()) {
            box.innerHTML = html;
            // A known caller: the name they gave last, unless the operator typed one already.
            var known = box.querySelector("[data-caller-name]");
            var name = document.getElementById("caller_name");
            if (known && name && !name.value.trim()) { name.value = known.dataset.callerName; }
          }
        })
        .catch(function () { /* history is a help, not a must: keep what is shown */ });
    }, 350));
  }

  var element = function (tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = text; }
    return node;
  };

  var message = function (text) {
    dupes.replaceChildren(element("p", "text-body-secondary small mb-0", text));
  };

  var showDuplicates = function (result) {
    if (!result.searched) { message(dupes.dataset.idle); return; }
    if (!result.duplicates.length) { message(dupes.dataset.none); return; }
    var list = element("ul", "list-unstyled small mb-0 history-list duplicates-list");
    result.duplicates.forEach(function (ticket) {
      var item = element("li", "border-top py-2 duplicate");
      item.dataset.number = ticket.number;
      var head = element("div", "d-flex justify-content-between align-items-center");
      var link = element("a", "", ticket.number);
      link.href = ticket.url;
      link.target = "_blank";
      link.rel = "noopener";
      head.append(link, element("span", "badge status-badge text-bg-" + ticket.status_colour, ticket.status_label));
      var meta = [ticket.created_at, ticket.category];
      if (ticket.department) { meta.push(ticket.department); }
      item.append(
        head,
        element("div", "text-body-secondary", meta.join(" · ")),
        element("div", "text-warning-emphasis", ticket.reasons.join(" · ")),
        element("div", "", ticket.description)
      );
      list.append(item);
    });
    dupes.replaceChildren(element("p", "small mb-2", dupes.dataset.found), list);
  };

  if (form && dupes) {
    var search = debounced(function (current) {
      var typed = new FormData(form); // carries the CSRF token of the form
      typed.delete("files"); // the photos chosen are sent with the form only, not on every keystroke
      fetch(dupes.dataset.url, {
        method: "POST",
        body: typed,
        credentials: "same-origin",
        headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (result) {
          if (result !== null && current()) { showDuplicates(result); }
        })
        .catch(function () { /* duplicates are a help, not a must: keep what is shown */ });
    }, 600);
    ["caller_phone", "category", "address", "description"].forEach(function (name) {
      var input = document.getElementById(name);
      if (input) {
        input.addEventListener("input", search);
        input.addEventListener("change", search);
      }
    });
    // A form shown again after an error already holds what was typed.
    if ((phone && phone.value.trim()) || (document.getElementById("category") || {}).value) { search(); }
  }

  // The description's length against the limit the server enforces, as it is typed (the server
  // counts the characters of the trimmed text).
  var description = document.getElementById("description");
  var counter = document.getElementById("description-count");
  if (description && counter && description.dataset.max) {
    var limit = parseInt(description.dataset.max, 10);
    var count = function () {
      var length = Array.from(description.value.trim()).length;
      var over = length > limit;
      var text = over ? counter.dataset.over : counter.dataset.template;
      counter.textContent = text.replace("{count}", length).replace("{over}", length - limit).replace("{max}", limit);
      if (over || counter.classList.contains("over")) { description.classList.toggle("is-invalid", over); }
      counter.classList.toggle("over", over);
    };
    description.addEventListener("input", count);
    count();
  }

  if (type && answerGroup) {
    var toggle = function () {
      // Keep a typed answer visible even for another type, so the service's message makes sense.
      var show = type.value === "consultation" || (answer && answer.value.trim() !== "");
      answerGroup.hidden = !show;
    };
    type.addEventListener("change", toggle);
    toggle();
  }
})();
