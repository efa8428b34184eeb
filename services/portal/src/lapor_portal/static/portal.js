/* Lapor portal enhancements; every page works without this file.
   - maps (Leaflet, served by the portal, on the pages that have one): they only draw what
     the page already says, and fill the coordinate fields on a tap; without a tile server
     they show the shipped region seats on a plain background;
   - the receipt's copy and print buttons.
   Loaded on every page, because htmx swaps only the body of a boosted page. */
(function () {
  "use strict";

  function base(el) {
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.5 });
    var tiles = el.getAttribute("data-tiles");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 18 }).addTo(map); }
    el.classList.add("map-on");
    return map;
  }

  function nearest(seats, lat, lon) {
    var best = null, bestD = Infinity;
    seats.forEach(function (s) {
      var d = Math.pow(s[2] - lat, 2) + Math.pow(s[3] - lon, 2);
      if (d < bestD) { bestD = d; best = s; }
    });
    return best;
  }

  function formMap(el) {
    var seats = JSON.parse(el.getAttribute("data-seats") || "[]");
    if (!seats.length) { return; }
    var map = base(el);
    var bounds = L.latLngBounds(seats.map(function (s) { return [s[2], s[3]]; }));
    seats.forEach(function (s) {
      L.circleMarker([s[2], s[3]], { radius: 4, color: "#505a5f", weight: 1 })
        .bindTooltip(s[1]).addTo(map);
    });
    var latIn = document.getElementById(el.getAttribute("data-lat-input"));
    var lonIn = document.getElementById(el.getAttribute("data-lon-input"));
    var regionIn = document.getElementById(el.getAttribute("data-region-input"));
    var pin = null;
    function mark(lat, lon) {
      if (pin) { pin.setLatLng([lat, lon]); }
      else { pin = L.circleMarker([lat, lon], { radius: 9, color: "#a31621", weight: 3 }).addTo(map); }
    }
    if (latIn.value && lonIn.value) { mark(parseFloat(latIn.value), parseFloat(lonIn.value)); }
    map.fitBounds(bounds.pad(0.1));
    map.on("click", function (e) {
      var lat = Math.round(e.latlng.lat * 1e5) / 1e5, lon = Math.round(e.latlng.lng * 1e5) / 1e5;
      latIn.value = lat; lonIn.value = lon;
      mark(lat, lon);
      var seat = nearest(seats, lat, lon);
      if (seat && regionIn) { regionIn.value = seat[0]; }
    });
  }

  function statsMap(el) {
    var points = JSON.parse(el.getAttribute("data-points") || "[]");
    if (!points.length) { return; }
    var map = base(el);
    var most = Math.max.apply(null, points.map(function (p) { return p.complaints; }).concat([1]));
    points.forEach(function (p) {
      var label = p.name + ": " + p.complaints + (p.top ? " (" + p.top + ")" : "");
      L.circleMarker([p.lat, p.lon], {
        radius: 4 + 16 * Math.sqrt(p.complaints / most), color: "#a31621", weight: 2,
        fillOpacity: 0.35
      }).bindTooltip(label).addTo(map);
    });
    map.fitBounds(L.latLngBounds(points.map(function (p) { return [p.lat, p.lon]; })).pad(0.1));
  }

  function wire(root) {
    var tools = root.querySelector ? root.querySelector(".tools[hidden]") : null;
    if (!tools) { return; }
    tools.hidden = false;
    var status = tools.querySelector(".copied");
    tools.querySelector("[data-copy]").addEventListener("click", function (e) {
      var ids = e.currentTarget.getAttribute("data-copy").split(" ");
      var text = ids.map(function (id) { return document.getElementById(id).textContent; }).join("\n");
      if (navigator.clipboard) {
        navigator.clipboard.writeText(text).then(function () {
          status.textContent = document.documentElement.lang === "en" ? "Copied." : "Tersalin.";
        });
      }
    });
    tools.querySelector("[data-print]").addEventListener("click", function () { window.print(); });
  }
  function scan(root) {
    wire(root);
    if (typeof L === "undefined") { return; }
    var form = root.querySelector ? root.querySelector("#peta:not(.map-on)") : null;
    if (form) { formMap(form); }
    var stats = root.querySelector ? root.querySelector("#peta-statistik:not(.map-on)") : null;
    if (stats) { statsMap(stats); }
  }

  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function (e) { scan(document); });
})();
