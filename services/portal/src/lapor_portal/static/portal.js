/* Lapor portal enhancements; every page works without this file.
   - the maps (Leaflet, served by the portal, on the pages that have one). No tile server is
     needed: the regencies' outlines and names come from /static/geo/regencies.json (a
     simplified copy of the boundaries intake decides with); an optional tile URL adds a
     background. The maps only add to what the page already says in words:
       * the report form: a spot found by a tap or the phone's location. Which regency it lies
         in is asked of the portal (/lokasi: the same boundaries and lookup intake files
         with), never guessed here, and a regency already chosen is never changed without
         asking;
       * the statistics: a choropleth of the province's regencies (reports or follow-up
         speed), every area readable by tap and by keyboard; the table below says the same;
       * the public reports: points, grouped when close, beside the list;
   - the receipt's copy and print buttons.
   Loaded on every page, because htmx swaps only the body of a boosted page. */
(function () {
  "use strict";

  var outlines = null;
  function boundaries() {
    if (!outlines) {
      outlines = fetch("/static/geo/regencies.json").then(function (r) {
        if (!r.ok) { throw new Error("boundaries " + r.status); }
        return r.json();
      });
    }
    return outlines;
  }

  function fmt(text, values) {
    return text.replace(/\{(\w+)\}/g, function (_, k) { return values[k] === undefined ? "" : values[k]; });
  }

  function base(el) {
    el.classList.add("map-on");  // first: Leaflet measures the box when the map is made
    var map = L.map(el, { attributionControl: false, zoomSnap: 0.25, minZoom: 4 });
    var tiles = el.getAttribute("data-tiles");
    if (tiles) { L.tileLayer(tiles, { maxZoom: 18 }).addTo(map); }
    return map;
  }

  /* Names on the map, without overlaps: the first ones given (the most important) win, and
     each name shows only at the zooms it is given for (provinces far out, regencies close). */
  function labelLayer(map) {
    var group = L.layerGroup().addTo(map);
    var items = [];
    function declutter() {
      var taken = [], zoom = map.getZoom();
      items.forEach(function (item) {
        var el = item.tip.getElement();
        if (!el) { return; }
        if (zoom < item.from || zoom >= item.to) { el.style.visibility = "hidden"; return; }
        el.style.visibility = "visible";
        var box = el.getBoundingClientRect();
        var clash = box.width === 0 || taken.some(function (b) {
          return box.left < b.right && box.right > b.left && box.top < b.bottom && box.bottom > b.top;
        });
        if (clash) { el.style.visibility = "hidden"; } else { taken.push(box); }
      });
    }
    map.on("zoomend moveend", declutter);
    return {
      add: function (latlng, text, from, to) {
        var tip = L.tooltip({ permanent: true, direction: "center", className: "map-label", interactive: false })
          .setLatLng(latlng).setContent(text);
        group.addLayer(tip);
        items.push({ tip: tip, from: from || 0, to: to || 99 });
      },
      declutter: declutter
    };
  }

  function shortName(name) {
    return name.replace(/^Kabupaten /, "Kab. ").replace(/^Provinsi /, "");
  }

  /* -- the report form ------------------------------------------------------------------ */

  function formMap(el) {
    var words = JSON.parse(el.getAttribute("data-words") || "{}");
    var fieldset = document.getElementById("f-location");
    var latIn = document.getElementById(el.getAttribute("data-lat-input"));
    var lonIn = document.getElementById(el.getAttribute("data-lon-input"));
    var regionIn = document.getElementById(el.getAttribute("data-region-input"));
    var status = document.getElementById("lokasi-status");
    var ask = document.getElementById("lokasi-tanya");
    var askText = document.getElementById("lokasi-tanya-teks");
    var locateBtn = fieldset.querySelector("[data-locate]");
    var clearBtn = fieldset.querySelector("[data-clear]");
    fieldset.hidden = false;
    if (!navigator.geolocation) { locateBtn.hidden = true; }
    var map = base(el);
    var labels = labelLayer(map);
    var byCode = {};
    var pin = null;
    var asked = 0;

    function say(text) { status.textContent = text; }
    function nameOf(code) {
      var opt = regionIn.querySelector('option[value="' + code + '"]');
      return opt ? opt.textContent : code;
    }
    function setPin(lat, lon) {
      if (pin) { pin.setLatLng([lat, lon]); }
      else { pin = L.circleMarker([lat, lon], { radius: 10, color: "#a31621", weight: 3, fillOpacity: 0.5 }).addTo(map); }
      latIn.value = lat; lonIn.value = lon;
      clearBtn.hidden = false;
    }
    function clearPin() {
      if (pin) { map.removeLayer(pin); pin = null; }
      latIn.value = ""; lonIn.value = "";
      clearBtn.hidden = true;
    }
    function hideAsk() { ask.hidden = true; }
    function question(found) {
      var chosen = nameOf(regionIn.value);
      askText.textContent = fmt(words.ask, { name: found.name, chosen: chosen });
      var yes = ask.querySelector('[data-answer="yes"]'), no = ask.querySelector('[data-answer="no"]');
      yes.textContent = fmt(words.yes, { name: found.name });
      no.textContent = fmt(words.no, { chosen: chosen });
      yes.onclick = function () {
        regionIn.value = found.code;
        hideAsk(); say(fmt(words.changed, { name: found.name }));
        regionIn.focus();
      };
      no.onclick = function () { hideAsk(); say(fmt(words.kept, { chosen: chosen })); no.blur(); };
      ask.hidden = false;
      askText.focus();
    }
    function place(lat, lon) {
      lat = Math.round(lat * 1e5) / 1e5; lon = Math.round(lon * 1e5) / 1e5;
      var mine = ++asked;
      hideAsk();
      fetch("/lokasi?lat=" + lat + "&lon=" + lon, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (found) {
          if (mine !== asked) { return; }  // a later tap answers instead
          if (!found.ok) { clearPin(); say(found.message); return; }
          setPin(lat, lon);
          hint();
          if (!regionIn.value) {
            regionIn.value = found.code;
            say(found.message + " " + fmt(words.chosen, { name: found.name }));
          } else if (regionIn.value === found.code) {
            say(found.message);
          } else {
            say("");  // the question says it
            question(found);
          }
        })
        .catch(function () { if (mine === asked) { say(words.offline); } });
    }
    var categoryIn = document.getElementById("f-category");
    var similarBox = document.getElementById("mirip");
    var hinted = "";
    /* Similar reports already in, while the citizen writes (the step before filing asks
       the same; this only says it early). */
    function hint() {
      if (!similarBox || !categoryIn || !categoryIn.value || !(latIn.value || regionIn.value)) { return; }
      var query = "kategori=" + encodeURIComponent(categoryIn.value) +
        (latIn.value ? "&lat=" + latIn.value + "&lon=" + lonIn.value : "&wilayah=" + encodeURIComponent(regionIn.value));
      if (query === hinted) { return; }
      hinted = query;
      fetch("/mirip?" + query, { credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.text() : ""; })
        .then(function (html) { if (query === hinted) { similarBox.innerHTML = html; } })
        .catch(function () { /* the step before filing asks anyway */ });
    }
    if (categoryIn) { categoryIn.addEventListener("change", hint); }
    function show(code) {
      var b = byCode[code];
      if (b) { map.fitBounds(b, { maxZoom: 12, animate: false }); }
    }

    map.setView([-3.3, 114.6], 5);
    boundaries().then(function (data) {
      var layer = L.geoJSON(data, {
        interactive: false,
        style: { color: "#505a5f", weight: 1, fillColor: "#ffffff", fillOpacity: 0.05 }
      }).addTo(map);
      var provinces = {};
      layer.eachLayer(function (l) {
        var p = l.feature.properties;
        byCode[p.code] = l.getBounds();
        labels.add(p.label, shortName(p.name), 8);
        if (!provinces[p.province]) { provinces[p.province] = L.latLngBounds([]); }
        provinces[p.province].extend(l.getBounds());
      });
      Array.prototype.forEach.call(regionIn.querySelectorAll("optgroup"), function (group) {
        var first = group.querySelector("option");
        var code = first ? first.value.split(".")[0] : "";
        if (provinces[code]) { labels.add(provinces[code].getCenter(), shortName(group.label), 0, 8); }
      });
      if (latIn.value && lonIn.value) {
        var lat = parseFloat(latIn.value), lon = parseFloat(lonIn.value);
        setPin(lat, lon);
        map.setView([lat, lon], 12, { animate: false });
      } else if (regionIn.value && byCode[regionIn.value]) {
        show(regionIn.value);
      } else {
        map.fitBounds(layer.getBounds(), { animate: false });
      }
      labels.declutter();
    }).catch(function () { /* the list still works */ });

    regionIn.addEventListener("change", function () {
      hideAsk();
      hint();
      if (!pin && regionIn.value) { show(regionIn.value); }
    });
    map.on("click", function (e) {
      if (map.getZoom() < 9) {
        map.setView(e.latlng, 11, { animate: false });
        say(words.zoom);
        return;
      }
      place(e.latlng.lat, e.latlng.lng);
    });
    locateBtn.addEventListener("click", function () {
      say(words.locating);
      navigator.geolocation.getCurrentPosition(function (pos) {
        map.setView([pos.coords.latitude, pos.coords.longitude], 14, { animate: false });
        place(pos.coords.latitude, pos.coords.longitude);
      }, function () { say(words.no_geo); }, { enableHighAccuracy: true, timeout: 15000, maximumAge: 60000 });
    });
    clearBtn.addEventListener("click", function () {
      clearPin(); hideAsk(); say(words.cleared); locateBtn.focus();
    });
  }

  /* -- the statistics' choropleth --------------------------------------------------------- */

  var SHADES = ["#fde0c5", "#f9b384", "#ef7f4f", "#cf4a2f", "#8f1d21"];

  /* Five classes of equal width, in whole reports (or tenths of a working day). */
  function breaks(values, whole) {
    var top = Math.max.apply(null, values.concat([0]));
    if (top <= 0) { return []; }
    var unit = whole ? 1 : 0.1;
    var step = Math.max(unit, Math.ceil(top / SHADES.length / unit) * unit);
    var out = [];
    for (var i = 1; i < SHADES.length; i++) { out.push(Math.round(step * i * 10) / 10); }
    return out;
  }
  function shade(value, cuts, whole) {
    if (value === null || value === undefined || (whole && value === 0)) { return "#e8e8e8"; }
    var i = 0;
    while (i < cuts.length && value > cuts[i]) { i++; }
    return SHADES[i];
  }
  function number(value, digits, lang) {
    return Number(value).toLocaleString(lang === "en" ? "en-GB" : "id-ID", { maximumFractionDigits: digits, minimumFractionDigits: 0 });
  }

  function statsMap(el) {
    var rows = JSON.parse(el.getAttribute("data-rows") || "[]");
    var words = JSON.parse(el.getAttribute("data-words") || "{}");
    var province = el.getAttribute("data-province");
    var lang = document.documentElement.lang;
    var legend = document.getElementById("peta-legenda");
    var switcher = document.getElementById("peta-pilih");
    var byCode = {};
    rows.forEach(function (r) { byCode[r.code] = r; });
    var block = document.getElementById("peta-blok");
    if (block) { block.hidden = false; }
    var map = base(el);
    var labels = labelLayer(map);
    var layer = null;
    var measure = "complaints";
    map.setView([-3.3, 114.6], 6);

    function value(row) { return row ? (measure === "complaints" ? row.complaints : row.speed) : null; }
    function says(row, name) {
      if (!row) { return name + ": " + words.no_data; }
      var parts = [fmt(words.reports, { n: number(row.complaints, 0, lang) })];
      parts.push(row.speed === null ? words.no_data : fmt(words.days, { d: number(row.speed, 1, lang) }));
      return name + ": " + parts.join("; ");
    }
    function drawLegend(cuts) {
      legend.innerHTML = "";
      var whole = measure === "complaints";
      var title = document.createElement("p");
      title.className = "legend-title";
      title.textContent = whole ? words.legend_complaints : words.legend_speed;
      legend.appendChild(title);
      var list = document.createElement("ul");
      function item(color, text) {
        var li = document.createElement("li");
        var sw = document.createElement("span");
        sw.className = "swatch"; sw.style.background = color;
        li.appendChild(sw);
        li.appendChild(document.createTextNode(text));
        list.appendChild(li);
      }
      var digits = whole ? 0 : 1;
      cuts.forEach(function (hi, i) {
        var lo = i === 0 ? (whole ? 1 : 0) : cuts[i - 1] + (whole ? 1 : 0.1);
        item(SHADES[i], number(lo, digits, lang) + "\u2013" + number(hi, digits, lang));
      });
      if (cuts.length) {
        item(SHADES[cuts.length], "\u2265 " + number(cuts[cuts.length - 1] + (whole ? 1 : 0.1), digits, lang));
      }
      item("#e8e8e8", whole ? number(0, 0, lang) + " / " + words.no_data : words.no_data);
      legend.appendChild(list);
    }
    function paint() {
      if (!layer) { return; }
      var values = rows.map(value).filter(function (v) { return v !== null && v !== undefined; });
      var cuts = breaks(values, measure === "complaints");
      layer.eachLayer(function (l) {
        var row = byCode[l.feature.properties.code];
        l.setStyle({ fillColor: shade(value(row), cuts, measure === "complaints") });
      });
      drawLegend(cuts);
    }

    boundaries().then(function (data) {
      var mine = { type: "FeatureCollection", features: data.features.filter(function (f) { return f.properties.province === province; }) };
      layer = L.geoJSON(mine, { style: { color: "#ffffff", weight: 1.5, fillOpacity: 0.85 } }).addTo(map);
      var order = [];
      layer.eachLayer(function (l) {
        var p = l.feature.properties, row = byCode[p.code];
        var text = says(row, p.name);
        l.bindTooltip(text, { sticky: false, direction: "top" });
        var path = l.getElement && l.getElement();
        if (path) {
          path.setAttribute("tabindex", "0");
          path.setAttribute("role", "img");
          path.setAttribute("aria-label", text);
          path.addEventListener("focus", function () { l.openTooltip(l.getBounds().getCenter()); });
          path.addEventListener("blur", function () { l.closeTooltip(); });
        }
        l.on("click", function () { l.openTooltip(l.getBounds().getCenter()); });
        order.push({ label: p.label, name: shortName(p.name), n: row ? row.complaints : 0 });
      });
      order.sort(function (a, b) { return b.n - a.n; });
      order.forEach(function (o) { labels.add(o.label, o.name); });
      map.fitBounds(layer.getBounds(), { animate: false });
      paint();
      labels.declutter();
    }).catch(function () { if (block) { block.hidden = true; } });

    if (switcher) {
      switcher.addEventListener("change", function (e) {
        if (e.target.name === "ukuran") { measure = e.target.value; paint(); }
      });
    }
  }

  /* -- the public reports' map ------------------------------------------------------------ */

  function publicMap(el) {
    var points = JSON.parse(el.getAttribute("data-points") || "[]");
    var words = JSON.parse(el.getAttribute("data-words") || "{}");
    el.hidden = false;
    var map = base(el);
    var group = L.layerGroup().addTo(map);
    map.setView([-3.3, 114.6], 6);
    var labels = labelLayer(map);
    boundaries().then(function (data) {
      var layer = L.geoJSON(data, { interactive: false, style: { color: "#505a5f", weight: 1, fillOpacity: 0.03 } }).addTo(map);
      layer.bringToBack();
      layer.eachLayer(function (l) { labels.add(l.feature.properties.label, shortName(l.feature.properties.name), 8); });
      labels.declutter();
    }).catch(function () { /* points alone */ });
    function draw() {
      group.clearLayers();
      var cells = {};
      points.forEach(function (p) {
        var xy = map.project([p.lat, p.lon], map.getZoom());
        var key = Math.floor(xy.x / 48) + ":" + Math.floor(xy.y / 48);
        (cells[key] = cells[key] || []).push(p);
      });
      Object.keys(cells).forEach(function (key) {
        var here = cells[key];
        if (here.length === 1) {
          var p = here[0];
          var link = document.createElement("a");
          link.href = "/laporan/" + p.id;
          link.textContent = p.title;
          var meta = document.createElement("span");
          meta.className = "meta";
          meta.textContent = p.status;
          var box = document.createElement("div");
          box.appendChild(link); box.appendChild(document.createElement("br")); box.appendChild(meta);
          L.circleMarker([p.lat, p.lon], { radius: 8, color: "#a31621", weight: 2, fillOpacity: 0.6 })
            .bindPopup(box).addTo(group);
          return;
        }
        var lat = 0, lon = 0;
        here.forEach(function (q) { lat += q.lat; lon += q.lon; });
        var centre = [lat / here.length, lon / here.length];
        var icon = L.divIcon({ className: "cluster", html: String(here.length), iconSize: [36, 36] });
        L.marker(centre, { icon: icon, title: fmt(words.cluster, { n: here.length }), alt: fmt(words.cluster, { n: here.length }) })
          .on("click", function () {
            map.fitBounds(L.latLngBounds(here.map(function (q) { return [q.lat, q.lon]; })).pad(0.3), { maxZoom: map.getZoom() + 3 });
          }).addTo(group);
      });
    }
    if (points.length) {
      map.fitBounds(L.latLngBounds(points.map(function (p) { return [p.lat, p.lon]; })).pad(0.2), { maxZoom: 10, animate: false });
    }
    map.on("zoomend", draw);
    draw();
  }

  /* -- the receipt ------------------------------------------------------------------------ */

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

  /* -- the category the words suggest, while the citizen writes ------------------------- */

  function suggestion(root) {
    var box = root.querySelector ? root.querySelector("#saran[hidden]") : null;
    if (!box || !window.fetch || box.getAttribute("data-on")) { return; }
    box.setAttribute("data-on", "1");
    var title = document.getElementById("f-title");
    var text = document.getElementById("f-description");
    var category = document.getElementById("f-category");
    var seen = document.getElementById("f-kategori-dilihat");
    var say = document.getElementById("saran-teks");
    var change = document.getElementById("saran-ganti");
    var timer = null, asked = "", suggested = "";
    function ask() {
      var words = (title.value + " " + text.value).trim();
      if (words.length < 15 || words === asked) { return; }
      asked = words;
      var body = new URLSearchParams();
      body.set("judul", title.value); body.set("isi", text.value);
      fetch("/saran", { method: "POST", body: body, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : { ok: false }; })
        .then(function (found) {
          if (words !== asked) { return; }  // the citizen typed on: a later answer counts
          if (!found.ok || found.code === category.value) { box.hidden = true; return; }
          suggested = found.code;
          say.textContent = found.message;
          change.textContent = found.change;
          box.hidden = false;
          var before = document.getElementById("saran-awal");
          if (before) { before.hidden = true; }  // the error round's hint: this one is newer
          seen.value = "1";  // said here: the step before filing does not ask again
        })
        .catch(function () { /* the step before filing asks anyway */ });
    }
    function later() { clearTimeout(timer); timer = setTimeout(ask, 900); }
    title.addEventListener("input", later);
    text.addEventListener("input", later);
    category.addEventListener("change", function () { if (category.value === suggested) { box.hidden = true; } });
    change.addEventListener("click", function () {
      category.value = suggested;
      category.dispatchEvent(new Event("change", { bubbles: true }));
      box.hidden = true;
      category.focus();
    });
  }

  /* -- a stop code from an e-mail's link (/berhenti#code): filled in, then dropped from the
     address so it stays out of the history ---------------------------------------------- */

  function stopCode() {
    var field = document.getElementById("f-kode-berhenti");
    if (!field || location.hash.length < 2) { return; }
    if (!field.value) { field.value = decodeURIComponent(location.hash.slice(1)); }
    if (window.history && history.replaceState) { history.replaceState(null, "", location.pathname); }
  }

  function scan(root) {
    wire(root);
    suggestion(root);
    stopCode();
    if (typeof L === "undefined" || !window.fetch || !root.querySelector) {
      document.documentElement.classList.remove("js");  // no maps here: their places go
      return;
    }
    var form = root.querySelector("#peta:not(.map-on)");
    if (form) { formMap(form); }
    var stats = root.querySelector("#peta-statistik:not(.map-on)");
    if (stats) { statsMap(stats); }
    var reports = root.querySelector("#peta-publik:not(.map-on)");
    if (reports) { publicMap(reports); }
  }

  document.addEventListener("DOMContentLoaded", function () { scan(document); });
  document.addEventListener("htmx:load", function () { scan(document); });
})();
