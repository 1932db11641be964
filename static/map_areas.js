// geo (issue 18 item 4): hotspot areas on the supervisors' map. The saved areas are drawn (the
// one chosen, ?area=ID, highlighted and in view); "Draw" turns clicks on the map into the corners
// of a new area (a small click-to-add-corners tool: no drawing plugin), "Undo" takes the last
// corner back, and "Save" posts the name and the corners; the server checks the polygon (3
// corners or more, no crossing edges, inside the city) and says in words what is wrong, the
// drawing kept for another try. Plain JS, no inline script (the CSP stays strict).
(function () {
  "use strict";
  var box = document.getElementById("map");
  var form = document.getElementById("area-form");
  if (!box || !form || !box.leafletMap || typeof L === "undefined") { return; }
  var map = box.leafletMap;
  var data = JSON.parse(box.dataset.map);
  var start = document.getElementById("area-start");
  var undo = document.getElementById("area-undo");
  var cancel = document.getElementById("area-cancel");
  var save = document.getElementById("area-save");
  var name = document.getElementById("area-name");
  var points = document.getElementById("area-points");
  var status = document.getElementById("area-status");
  var error = document.getElementById("area-error");

  (data.areas || []).forEach(function (area) {
    var chosen = area.id === data.area;
    var layer = L.geoJSON(area.geometry, {
      style: function () {
        return { color: "#6f42c1", weight: chosen ? 3 : 1.5, dashArray: chosen ? null : "4 4", fillColor: "#6f42c1", fillOpacity: chosen ? 0.15 : 0.05 };
      },
      onEachFeature: function (feature, shape) {
        shape.bindTooltip(area.name, { sticky: true });
        shape.on("add", function () {
          var element = shape.getElement && shape.getElement();
          if (element) { element.classList.add("map-area"); element.setAttribute("data-area", area.id); }
        });
      }
    }).addTo(map);
    layer.on("click", function () { if (!drawing) { window.location.href = area.url; } });
    if (chosen) { map.fitBounds(layer.getBounds(), { padding: [30, 30], maxZoom: 17 }); }
  });

  var drawing = false;
  var corners = [];
  var draft = null;
  var marks = [];

  var say = function (message) {
    error.textContent = message || "";
    error.hidden = !message;
  };

  var redraw = function () {
    if (draft) { map.removeLayer(draft); draft = null; }
    marks.forEach(function (mark) { map.removeLayer(mark); });
    marks = corners.map(function (corner) {
      return L.circleMarker(corner, { radius: 4, color: "#6f42c1", weight: 2, fillColor: "#fff", fillOpacity: 1, className: "area-corner", interactive: false }).addTo(map);
    });
    if (corners.length >= 2) {
      draft = L.polygon(corners, { color: "#6f42c1", weight: 2, dashArray: "6 4", fillOpacity: 0.1, className: "area-draft", interactive: false }).addTo(map);
    }
    points.value = JSON.stringify(corners);
    status.textContent = drawing ? form.dataset.status.replace("{count}", String(corners.length)) : "";
    undo.disabled = !drawing || !corners.length;
    cancel.disabled = !drawing;
    save.disabled = !drawing || corners.length < 3;
  };

  var stop = function () {
    drawing = false;
    corners = [];
    box.classList.remove("map-drawing");
    start.disabled = false;
    say("");
    redraw();
  };

  start.addEventListener("click", function () {
    drawing = true;
    corners = [];
    box.classList.add("map-drawing");
    start.disabled = true;
    say("");
    redraw();
  });
  undo.addEventListener("click", function () { corners.pop(); redraw(); });
  cancel.addEventListener("click", stop);

  map.on("click", function (event) {
    if (!drawing) { return; }
    corners.push([Math.round(event.latlng.lat * 1e6) / 1e6, Math.round(event.latlng.lng * 1e6) / 1e6]);
    map.closePopup();
    redraw();
  });

  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (!drawing) { return; }
    say("");
    save.disabled = true;
    fetch(form.action, {
      method: "POST", credentials: "same-origin", body: new FormData(form), // carries the CSRF token
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
    })
      .then(function (response) {
        return response.json().then(function (body) { return { ok: response.ok, body: body }; });
      })
      .then(function (answer) {
        if (answer.ok) { window.location.href = answer.body.url; return; }
        say(answer.body.error);
        if (answer.body.field === "name") { name.focus(); }
        save.disabled = corners.length < 3;
      })
      .catch(function () { say(form.dataset.failed || ""); save.disabled = corners.length < 3; });
  });
})();
