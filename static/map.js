// geo (issue 18): the desks' maps. The page carries its data as JSON (data-map): the district
// outlines and places (the background, drawn as vectors so that the map works offline), the
// tile layer's URL when one is configured, the tickets (coloured by deadline level) and the
// hotspots. Plain JS, no inline script (the CSP stays strict).
(function () {
  "use strict";
  var box = document.getElementById("map");
  if (!box || typeof L === "undefined") { return; }
  var data = JSON.parse(box.dataset.map);
  var map = L.map(box, { preferCanvas: false });
  box.leafletMap = map; // for the page's other scripts (map_areas.js draws on the supervisors' map)
  if (data.tiles) {
    L.tileLayer(data.tiles, { maxZoom: 19, attribution: data.attribution || "" }).addTo(map);
  }
  // The view first (vector layers need one to be drawn): everything the map will show.
  var bounds = L.latLngBounds([]);
  var districts = L.geoJSON(data.districts, {
    style: function () { return { color: "#6c757d", weight: 1.5, fillColor: "#e9ecef", fillOpacity: data.tiles ? 0.1 : 0.6 }; },
    onEachFeature: function (feature, layer) {
      layer.bindTooltip(feature.properties.name || feature.properties.code, { sticky: true });
    }
  });
  if (data.districts.features.length) { bounds.extend(districts.getBounds()); }
  data.places.forEach(function (place) { bounds.extend([place.lat, place.long]); });
  data.tickets.forEach(function (ticket) { bounds.extend([ticket.lat, ticket.long]); });
  if (bounds.isValid()) { map.fitBounds(bounds, { padding: [20, 20], maxZoom: 16 }); }
  else { map.setView([0, 0], 2); }
  districts.addTo(map);
  data.places.forEach(function (place) {
    var marker = L.circleMarker([place.lat, place.long], {
      radius: 3, color: "#495057", weight: 1, fillColor: "#adb5bd", fillOpacity: 1, className: "map-place"
    }).addTo(map);
    marker.bindTooltip(place.name);
  });
  var colours = { ok: "#198754", amber: "#fd7e14", red: "#dc3545", none: "#0d6efd" };
  data.tickets.forEach(function (ticket) {
    var marker = L.circleMarker([ticket.lat, ticket.long], {
      radius: 7, color: "#fff", weight: 1.5, fillColor: colours[ticket.level] || colours.none, fillOpacity: 0.9,
      className: "map-ticket level-" + ticket.level
    }).addTo(map);
    var popup = document.createElement("div");
    var link = document.createElement("a");
    link.href = ticket.url;
    link.textContent = box.dataset.ticketLabel + " " + ticket.number;
    popup.append(link, document.createElement("br"), document.createTextNode(ticket.category));
    marker.bindPopup(popup);
    var element = marker.getElement && marker.getElement();
    if (element) { element.setAttribute("data-number", ticket.number); }
  });
  data.hotspots.forEach(function (spot) {
    var circle = L.circleMarker([spot.lat, spot.long], {
      radius: Math.min(30, 8 + spot.tickets), color: "#6f42c1", weight: 2, fillColor: "#6f42c1", fillOpacity: 0.25,
      className: "map-hotspot-marker"
    }).addTo(map);
    var popup = document.createElement("div");
    var link = document.createElement("a");
    link.href = spot.url;
    link.textContent = box.dataset.hotspotLabel + ": " + spot.title + " (" + spot.tickets + ")";
    popup.append(link);
    circle.bindPopup(popup);
    var element = circle.getElement && circle.getElement();
    if (element) { element.setAttribute("data-hotspot", spot.id); }
  });
})();
