// geo (issue 18): the intake form's address searches the gazetteer as it is typed; picking a
// place (mouse, or arrow keys and Enter) sets the point (hidden lat/long), the district, and
// asks the duplicates panel again (it offers the open tickets near the point). Plain JS, no
// inline script (the CSP stays strict).
(function () {
  "use strict";
  var address = document.getElementById("address");
  var list = document.getElementById("place-matches");
  var lat = document.getElementById("lat");
  var long = document.getElementById("long");
  var shown = document.getElementById("point-shown");
  var text = document.getElementById("point-text");
  var clear = document.getElementById("point-clear");
  var district = document.getElementById("district");
  if (!address || !list || !lat || !long) { return; }
  var places = [];
  var active = -1;
  var timer = null;
  var latest = 0;

  var changed = function () {
    // The duplicates panel listens to the address: tell it the point moved.
    address.dispatchEvent(new Event("change"));
  };

  var setPoint = function (latitude, longitude) {
    lat.value = latitude === null ? "" : String(latitude);
    long.value = longitude === null ? "" : String(longitude);
    if (shown && text) {
      shown.hidden = latitude === null;
      text.textContent = latitude === null ? "" :
        shown.dataset.template.replace("{lat}", latitude.toFixed(6)).replace("{long}", longitude.toFixed(6));
    }
    changed();
  };

  var close = function () {
    list.hidden = true;
    list.replaceChildren();
    address.setAttribute("aria-expanded", "false");
    address.removeAttribute("aria-activedescendant");
    active = -1;
  };

  var pick = function (place) {
    address.value = place.name;
    if (district && place.district) { district.value = place.district; }
    close();
    setPoint(place.lat, place.long);
  };

  var highlight = function (index) {
    var items = list.querySelectorAll("[role=option]");
    items.forEach(function (item, i) {
      item.classList.toggle("active", i === index);
      item.setAttribute("aria-selected", i === index ? "true" : "false");
    });
    active = index;
    if (index >= 0 && items[index]) { address.setAttribute("aria-activedescendant", items[index].id); }
  };

  var show = function (found) {
    places = found;
    list.replaceChildren();
    if (!found.length) { close(); return; }
    found.forEach(function (place, i) {
      var item = document.createElement("li");
      item.className = "list-group-item list-group-item-action py-1 small place-match";
      item.id = "place-match-" + i;
      item.setAttribute("role", "option");
      item.textContent = place.name + (place.district_name ? " · " + place.district_name : "");
      item.addEventListener("mousedown", function (event) { event.preventDefault(); pick(place); });
      list.append(item);
    });
    list.hidden = false;
    address.setAttribute("aria-expanded", "true");
    highlight(-1);
  };

  address.addEventListener("input", function () {
    clearTimeout(timer);
    var query = address.value.trim();
    if (lat.value) { setPoint(null, null); } // a new address: the old point no longer holds
    if (!query) { close(); return; }
    timer = setTimeout(function () {
      var request = ++latest;
      fetch(list.dataset.url + "?q=" + encodeURIComponent(query), {
        credentials: "same-origin", headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
      })
        .then(function (response) { return response.ok ? response.json() : null; })
        .then(function (result) { if (result !== null && request === latest) { show(result.places); } })
        .catch(function () { /* the gazetteer is a help, not a must */ });
    }, 250);
  });

  address.addEventListener("keydown", function (event) {
    if (list.hidden || !places.length) { return; }
    if (event.key === "ArrowDown") { event.preventDefault(); highlight(Math.min(active + 1, places.length - 1)); }
    else if (event.key === "ArrowUp") { event.preventDefault(); highlight(Math.max(active - 1, 0)); }
    else if (event.key === "Enter" && active >= 0) { event.preventDefault(); pick(places[active]); }
    else if (event.key === "Escape") { close(); }
  });
  address.addEventListener("blur", function () { setTimeout(close, 150); });
  if (clear) { clear.addEventListener("click", function () { setPoint(null, null); }); }
  // Another page (the map) may set the point: it dispatches "hotline:point" on the form.
  document.addEventListener("hotline:point", function (event) { setPoint(event.detail.lat, event.detail.long); });
})();
