// Operators' console: poll the calls feed every few seconds and update the two lists in place.
// Each row arrives with its HTML and a key; only rows whose key changed are replaced, so a
// button under the mouse stays put. Plain JS, no inline script (a strict CSP can stay).
(function () {
  "use strict";
  var root = document.getElementById("console");
  if (!root) { return; }
  var feedUrl = root.dataset.feedUrl;
  var every = parseInt(root.dataset.pollMs, 10) || 2500;
  var statusLine = document.getElementById("console-status");
  var lists = {
    live: { list: document.getElementById("live-calls"), empty: document.getElementById("live-empty") },
    missed: { list: document.getElementById("missed-calls"), empty: document.getElementById("missed-empty") }
  };
  var missedTotal = document.getElementById("missed-total");
  var skew = 0; // server clock minus this browser's, in ms

  var fromHtml = function (html) {
    var template = document.createElement("template");
    template.innerHTML = html.trim();
    return template.content.firstElementChild;
  };

  var sync = function (target, rows) {
    var list = target.list;
    var current = {};
    Array.prototype.forEach.call(list.children, function (item) { current[item.dataset.sid] = item; });
    var previous = null;
    rows.forEach(function (row) {
      var item = current[row.sid];
      if (item && item.dataset.key !== row.key) {
        var fresh = fromHtml(row.html);
        list.replaceChild(fresh, item);
        item = fresh;
      } else if (!item) {
        item = fromHtml(row.html);
        item.classList.add("call-new");
      }
      delete current[row.sid];
      var expected = previous ? previous.nextElementSibling : list.firstElementChild;
      if (item !== expected) { list.insertBefore(item, expected); }
      previous = item;
    });
    Object.keys(current).forEach(function (sid) { current[sid].remove(); });
    target.empty.hidden = rows.length > 0;
    tick();
  };

  var twoDigits = function (n) { return (n < 10 ? "0" : "") + n; };

  // How long each live call has been going: 0:42, 12:05, 1:02:09.
  var tick = function () {
    var now = Date.now() + skew;
    Array.prototype.forEach.call(root.querySelectorAll(".call-elapsed[data-started]"), function (node) {
      var seconds = Math.max(0, Math.floor((now - parseInt(node.dataset.started, 10)) / 1000));
      var h = Math.floor(seconds / 3600);
      var m = Math.floor((seconds % 3600) / 60);
      var s = seconds % 60;
      node.textContent = h ? h + ":" + twoDigits(m) + ":" + twoDigits(s) : m + ":" + twoDigits(s);
    });
  };

  var say = function (text, stale) {
    statusLine.textContent = text;
    statusLine.classList.toggle("text-danger", !!stale);
  };

  var poll = function () {
    fetch(feedUrl, { credentials: "same-origin", headers: { "Accept": "application/json", "X-Requested-With": "fetch" } })
      .then(function (response) {
        if (response.redirected) { window.location.reload(); return null; } // signed out: to the login page
        var json = (response.headers.get("Content-Type") || "").indexOf("application/json") === 0;
        if (!response.ok || !json) { throw new Error("feed answered " + response.status); }
        return response.json();
      })
      .then(function (feed) {
        if (feed === null) { return; }
        skew = feed.now - Date.now();
        sync(lists.live, feed.live);
        sync(lists.missed, feed.missed);
        missedTotal.textContent = feed.missed_total;
        missedTotal.hidden = !feed.missed_total;
        say(root.dataset.updated + " " + feed.now_label, false);
      })
      .catch(function () { say(root.dataset.stale, true); })
      .then(function () { setTimeout(poll, every); });
  };

  // One click is enough: a second one would find the call already answered.
  root.addEventListener("submit", function (event) {
    var button = event.target.querySelector("button[type=submit]");
    if (button) {
      if (button.dataset.sent) { event.preventDefault(); return; }
      button.dataset.sent = "1";
      setTimeout(function () { button.disabled = true; }, 0);
    }
  });

  tick();
  setInterval(tick, 1000);
  setTimeout(poll, every);
})();
