// Dispatch forms (desk and ticket page): a department that returned the ticket said it is not
// theirs. When the dispatcher picks one of them, warn and ask for the reason (required); for
// any other department the reason field hides. Without this script the warning and the field
// always show and the server asks for the reason. Plain JS, no inline script.
(function () {
  "use strict";
  document.querySelectorAll(".ping-pong[data-returned-by]").forEach(function (block) {
    var form = block.closest("form");
    var select = form && form.querySelector("select[name=department]");
    var reason = block.querySelector("textarea[name=reason]");
    if (!select || !reason) { return; }
    var returners = block.dataset.returnedBy.split(" ").filter(Boolean);
    var update = function () {
      var back = returners.indexOf(select.value) !== -1;
      block.hidden = !back;
      reason.required = back;
      block.classList.toggle("ping-pong-active", back);
    };
    select.addEventListener("change", update);
    update();
  });
})();

// The lead department cannot also assist: it leaves the assisting list while it is the lead
// (the server refuses it anyway). static/multiselect.js redraws on "options-changed".
(function () {
  "use strict";
  document.querySelectorAll("form").forEach(function (form) {
    var lead = form.querySelector("select[name=department]");
    var assisting = form.querySelector("select[name=assisting]");
    if (!lead || !assisting) { return; }
    var sync = function () {
      Array.prototype.forEach.call(assisting.options, function (option) {
        var isLead = option.value === lead.value;
        option.disabled = isLead;
        if (isLead) { option.selected = false; }
      });
      assisting.dispatchEvent(new Event("options-changed"));
    };
    lead.addEventListener("change", sync);
    sync();
  });
})();
