// The citizen's report page (/report, issue 18): the city drawn as vectors (offline, as the desks'
// maps), a tap drops the pin; intake_geo.js owns the address box and the hidden lat/long and
// tells us when a place was picked ("change" on the address). Plain JS, no inline script (CSP).
(function () {
  "use strict";
  var box = document.getElementById("report-map");
  var lat = document.getElementById("lat");
  var long = document.getElementById("long");
  var address = document.getElementById("address");
  if (!box || !lat || !long || typeof L === "undefined") { return; }
  var data = JSON.parse(box.dataset.map);
  var map = L.map(box);
  if (data.tiles) { L.tileLayer(data.tiles, { maxZoom: 19 }).addTo(map); }
  var districts = L.geoJSON(data.districts, {
    style: function () { return { color: "#6c757d", weight: 1.5, fillColor: "#e9ecef", fillOpacity: 0.6 }; }
  });
  var bounds = L.latLngBounds([]);
  if (data.districts.features.length) { bounds.extend(districts.getBounds()); }
  data.places.forEach(function (place) { bounds.extend([place.lat, place.long]); });
  if (bounds.isValid()) { map.fitBounds(bounds, { padding: [10, 10], maxZoom: 16 }); } else { map.setView([0, 0], 2); }
  districts.addTo(map);
  data.places.forEach(function (place) {
    L.circleMarker([place.lat, place.long], { radius: 3, color: "#495057", weight: 1, fillColor: "#adb5bd", fillOpacity: 1 })
      .addTo(map).bindTooltip(place.name);
  });
  var pin = null;
  var show = function () {
    if (!lat.value || !long.value) { if (pin) { map.removeLayer(pin); pin = null; } return; }
    var at = [parseFloat(lat.value), parseFloat(long.value)];
    if (!pin) {
      pin = L.circleMarker(at, { radius: 9, color: "#fff", weight: 2, fillColor: "#dc3545", fillOpacity: 1, className: "report-pin" }).addTo(map);
    } else { pin.setLatLng(at); }
  };
  map.on("click", function (event) {
    // intake_geo.js sets the hidden fields and the text under the map, then says "change".
    document.dispatchEvent(new CustomEvent("hotline:point", {
      detail: { lat: Math.round(event.latlng.lat * 1e6) / 1e6, long: Math.round(event.latlng.lng * 1e6) / 1e6 }
    }));
  });
  if (address) { address.addEventListener("change", show); }
  show();
})();
