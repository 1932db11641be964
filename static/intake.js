// Intake form: show the caller's earlier tickets while the number is typed, and offer the
// direct answer only for a consultation. Plain JS, no inline script (a strict CSP can stay).
(function () {
  "use strict";
  var phone = document.getElementById("caller_phone");
  var box = document.getElementById("caller-history");
  var type = document.getElementById("type");
  var answerGroup = document.getElementById("direct-answer-group");
  var answer = document.getElementById("direct_answer");

  if (phone && box) {
    var timer = null;
    var latest = 0;
    var load = function () {
      var request = ++latest;
      var url = box.dataset.url + "?phone=" + encodeURIComponent(phone.value.trim());
      fetch(url, { credentials: "same-origin", headers: { "X-Requested-With": "fetch" } })
        .then(function (response) { return response.ok ? response.text() : null; })
        .then(function (html) {
          // Only the answer to the latest keystroke counts: slow answers must not overwrite it.
          if (html !== null && request === latest) { box.innerHTML = html; }
        })
        .catch(function () { /* history is a help, not a must: keep what is shown */ });
    };
    phone.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(load, 350);
    });
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
