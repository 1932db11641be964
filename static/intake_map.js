// geo (issue 18 item 2): the intake form's map. The operator clicks where it happened: the page
// asks the server what the point says (its district; the gazetteer place nearest it and the unit
// handling that place), then sets the point through intake_geo.js ("hotline:point": the hidden
// lat/long, the text under the address, and the duplicates panel asked again) and fills the
// district. Picking a place from the gazetteer (the keyboard way) moves the pin and names the
// unit too. The background (district outlines, places) is fetched once the page is shown.
// Plain JS, no inline script (the CSP stays strict).
(function () {
  "use strict";
  var box = document.getElementById("intake-map");
  var lat = document.getElementById("lat");
  var long = document.getElementById("long");
  var address = document.getElementById("address");
  var district = document.getElementById("district");
  var unit = document.getElementById("point-unit");
  var error = document.getElementById("intake-map-error");
  if (!box || !lat || !long || typeof L === "undefined") { return; }
  // Out of the Tab order: the operator's keyboard goes from the address to the description, and
  // the gazetteer is the keyboard's way to a point (the map is the mouse's).
  var map = L.map(box, { keyboard: false });
  map.setView([0, 0], 2);
  box.querySelectorAll("a, [tabindex]").forEach(function (control) { control.tabIndex = -1; });
  var pin = null;
  var asked = 0;
  var settingFromClick = false;

  var headers = { "X-Requested-With": "fetch", "Accept": "application/json" };

  var say = function (message) {
    if (!error) { return; }
    error.textContent = message || "";
    error.hidden = !message;
  };

  var showUnit = function (found) {
    if (!unit) { return; }
    if (!found || !found.place) { unit.hidden = true; unit.textContent = ""; return; }
    var text = unit.dataset.place.replace("{place}", found.place).replace("{metres}", String(found.distance_m));
    if (found.unit_name) { text += " · " + unit.dataset.unit.replace("{unit}", found.unit_name); }
    unit.textContent = text;
    unit.dataset.unitCode = found.unit || "";
    unit.hidden = false;
  };

  var showPin = function () {
    if (!lat.value || !long.value) {
      if (pin) { map.removeLayer(pin); pin = null; }
      showUnit(null);
      return;
    }
    var at = [parseFloat(lat.value), parseFloat(long.value)];
    if (!pin) {
      pin = L.circleMarker(at, {
        radius: 9, color: "#fff", weight: 2, fillColor: "#dc3545", fillOpacity: 1, className: "intake-pin"
      }).addTo(map);
    } else { pin.setLatLng(at); }
  };

  // What the server says about a point; `click`: set the point and the district from it.
  var describe = function (latitude, longitude, click) {
    var request = ++asked;
    var url = box.dataset.pointUrl + "?lat=" + encodeURIComponent(latitude) + "&long=" + encodeURIComponent(longitude);
    return fetch(url, { credentials: "same-origin", headers: headers })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (request !== asked) { return; }
        if (!answer.ok) { say(answer.body.error); return; }
        say("");
        if (click) {
          settingFromClick = true;
          document.dispatchEvent(new CustomEvent("hotline:point", { detail: { lat: answer.body.lat, long: answer.body.long } }));
          settingFromClick = false;
          if (district && answer.body.district) {
            district.value = answer.body.district;
            district.dispatchEvent(new Event("change"));
          }
        }
        showUnit(answer.body);
      })
      .catch(function () { /* the map is a help, not a must: the address and gazetteer still work */ });
  };

  map.on("click", function (event) {
    var latitude = Math.round(event.latlng.lat * 1e6) / 1e6;
    var longitude = Math.round(event.latlng.lng * 1e6) / 1e6;
    describe(latitude, longitude, true);
  });

  if (address) {
    // intake_geo.js says "change" whenever the point moves (a place picked, the point cleared).
    address.addEventListener("change", function () {
      showPin();
      if (!settingFromClick && lat.value && long.value) { describe(lat.value, long.value, false); }
    });
  }

  fetch(box.dataset.url, { credentials: "same-origin", headers: headers })
    .then(function (response) { return response.ok ? response.json() : null; })
    .then(function (data) {
      if (!data) { return; }
      if (data.tiles) { L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map); }
      var districts = L.geoJSON(data.districts, {
        style: function () { return { color: "#6c757d", weight: 1.5, fillColor: "#e9ecef", fillOpacity: data.tiles ? 0.1 : 0.6 }; },
        onEachFeature: function (feature, layer) { layer.bindTooltip(feature.properties.name || feature.properties.code, { sticky: true }); }
      });
      var bounds = L.latLngBounds([]);
      if (data.districts.features.length) { bounds.extend(districts.getBounds()); }
      data.places.forEach(function (place) { bounds.extend([place.lat, place.long]); });
      if (bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10], maxZoom: 16 }); }
      districts.addTo(map);
      data.places.forEach(function (place) {
        L.circleMarker([place.lat, place.long], { radius: 3, color: "#495057", weight: 1, fillColor: "#adb5bd", fillOpacity: 1, className: "map-place" })
          .addTo(map).bindTooltip(place.name);
      });
      if (pin) { pin.bringToFront(); }
      box.dataset.ready = "true";
    })
    .catch(function () { /* no background: the map still takes clicks */ });
  showPin();
  if (lat.value && long.value) { describe(lat.value, long.value, false); }
})();
