/*
 * L.HexLayer: H3 cells drawn on one Leaflet canvas from their ids (geo-service, EUPL-1.2).
 *
 * The server sends cell ids and a style index per cell instead of GeoJSON polygons; the
 * hexagon boundaries come from h3-js (cellToBoundary). Cells are drawn in one canvas path
 * per style, not as one L.Path each: 50,000 cells draw in tens of milliseconds. A click or
 * hover finds its cell with h3-js latLngToCell and a Map lookup, so no per-cell hit testing
 * or popup string is needed either.
 *
 * Built on L.Canvas (Leaflet 1.9.4, vendored): the renderer positions, resizes and
 * zoom-animates the canvas; _draw is extended to draw the cells after the (absent) paths.
 *
 * payload = {res, h: [cell ids], s: [style index per cell], p: [popup head index per cell],
 *            cols: {name: [value per cell]}}
 * options = {heads: id of the element whose children are the popup heads (HTML rendered by
 *            the server), pane, opacity (of the whole canvas),
 *            styles: [{fill, fillOpacity, stroke, weight, opacity}], order: [style
 *            indexes in drawing order], popup: {titles: [per style, for the hover text],
 *            rows: [[label, column, format, text]], notes: [..]}, small: "<5",
 *            tooltip: [column, format, unit]}
 */
(function (L, h3) {
  'use strict';

  var MAX_LAT = L.Projection.SphericalMercator.MAX_LATITUDE, RAD = Math.PI / 180;

  function esc(text) {
    return String(text)
      .replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
      .replace(/"/g, '&quot;');
  }

  function decimal(value, digits) {
    return Number(value).toFixed(digits).replace('.', ',');
  }

  function format(value, fmt, small) {
    if (fmt === 'count') {
      return value === null || value === undefined ? small : String(value);
    }
    if (value === null || value === undefined) { return '?'; }
    if (fmt === 'dec1') { return decimal(value, 1); }
    if (fmt === 'dec2') { return decimal(value, 2); }
    if (fmt === 'dec3') { return decimal(value, 3); }
    return String(value);
  }

  function stackOf(map) {
    if (!map._hexLayers) {
      map._hexLayers = [];
      // One handler per map: the topmost hexagon layer holding the cell answers.
      map.on('click', function (e) {
        var layer = topmost(map, e.latlng);
        if (layer) { layer._openPopup(e.latlng); }
      });
      map.on('mousemove', function (e) {
        var layer = topmost(map, e.latlng);
        map.getContainer().style.cursor = layer ? 'pointer' : '';
        map._hexLayers.forEach(function (l) { if (l !== layer) { l._hideTip(); } });
        if (layer) { layer._showTip(e.latlng); }
      });
      map.on('mouseout', function () {
        map._hexLayers.forEach(function (l) { l._hideTip(); });
      });
    }
    return map._hexLayers;
  }

  function topmost(map, latlng) {
    var stack = map._hexLayers || [];
    for (var i = stack.length - 1; i >= 0; i--) {
      if (stack[i]._cellAt(latlng) >= 0) { return stack[i]; }
    }
    return null;
  }

  L.HexLayer = L.Canvas.extend({
    options: {
      padding: 0.1,
      pane: 'overlayPane',
      styles: [],
      order: null,
      heads: null,
      opacity: 0.75,
      popup: {titles: [], rows: [], notes: []},
      small: '',
      tooltip: null
    },

    initialize: function (payload, options) {
      L.Canvas.prototype.initialize.call(this, options);
      this._res = payload.res;
      this._ids = payload.h;
      this._style = payload.s;
      this._head = payload.p;
      this._cols = payload.cols || {};
      this._index = new Map();
      for (var i = 0; i < this._ids.length; i++) { this._index.set(this._ids[i], i); }
      // Cells per style, drawn as one path each.
      var groups = this.options.styles.map(function () { return []; });
      for (var j = 0; j < this._style.length; j++) { groups[this._style[j]].push(j); }
      this._groups = groups;
      this._world = null;
    },

    _initContainer: function () {
      L.Canvas.prototype._initContainer.call(this);
      // Cells are painted opaque and the canvas made translucent as a whole: cells painted
      // in separate paths then meet without light seams along their shared edges.
      this._container.style.opacity = this.options.opacity;
    },

    onAdd: function (map) {
      stackOf(map).push(this);
      L.Canvas.prototype.onAdd.call(this, map);
    },

    onRemove: function (map) {
      var stack = stackOf(map);
      var at = stack.indexOf(this);
      if (at >= 0) { stack.splice(at, 1); }
      this._hideTip();
      L.Canvas.prototype.onRemove.call(this, map);
    },

    // Boundary vertices in CRS pixels at zoom 0, computed once (pixels at zoom z = world * 2^z).
    _project: function () {
      if (this._world) { return; }
      var crs = this._map.options.crs, n = this._ids.length;
      var mercator = crs === L.CRS.EPSG3857, size = crs.scale(0);
      var starts = new Uint32Array(n + 1), xy = [];
      for (var i = 0; i < n; i++) {
        starts[i] = xy.length / 2;
        var ring = h3.cellToBoundary(this._ids[i]);
        for (var k = 0; k < ring.length; k++) {
          if (mercator) {
            // L.CRS.EPSG3857.latLngToPoint(latlng, 0), without an object per vertex.
            var sin = Math.sin(Math.max(Math.min(ring[k][0], MAX_LAT), -MAX_LAT) * RAD);
            xy.push((ring[k][1] / 360 + 0.5) * size,
              (0.5 - Math.log((1 + sin) / (1 - sin)) / (4 * Math.PI)) * size);
          } else {
            var p = crs.latLngToPoint(L.latLng(ring[k][0], ring[k][1]), 0);
            xy.push(p.x, p.y);
          }
        }
      }
      starts[n] = xy.length / 2;
      var span = 0;
      for (var q = 1; q < starts[1]; q++) {
        span = Math.max(span, Math.abs(xy[2 * q] - xy[0]), Math.abs(xy[2 * q + 1] - xy[1]));
      }
      this._span = span;
      this._world = new Float64Array(xy);
      this._starts = starts;
    },

    _draw: function () {
      L.Canvas.prototype._draw.call(this);
      if (!this._map || !this._ids.length) { return; }
      this._project();
      var map = this._map, ctx = this._ctx, world = this._world, starts = this._starts;
      var crs = map.options.crs, origin = map.getPixelOrigin();
      var scale = crs.scale(map.getZoom()) / crs.scale(0);
      var b = this._bounds, ox = origin.x, oy = origin.y, m = this._span * scale + 2;
      var order = this.options.order || this.options.styles.map(function (_, i) { return i; });
      ctx.save();
      ctx.lineJoin = 'round';
      for (var o = 0; o < order.length; o++) {
        var style = this.options.styles[order[o]], cells = this._groups[order[o]];
        var inPath = 0;
        ctx.beginPath();
        for (var c = 0; c < cells.length; c++) {
          var i = cells[c], a = starts[i], e = starts[i + 1];
          var x0 = world[2 * a] * scale - ox, y0 = world[2 * a + 1] * scale - oy;
          // Skip cells whose first vertex lies more than a cell's span outside the canvas.
          if (x0 < b.min.x - m || x0 > b.max.x + m || y0 < b.min.y - m || y0 > b.max.y + m) {
            continue;
          }
          ctx.moveTo(x0, y0);
          for (var v = a + 1; v < e; v++) {
            ctx.lineTo(world[2 * v] * scale - ox, world[2 * v + 1] * scale - oy);
          }
          ctx.closePath();
          // Rasterising one path costs more than linear time in its number of edges
          // (33,000 cells: 950 ms as one path, 70 ms in paths of 128).
          if (++inPath === 128) {
            this._paint(ctx, style);
            ctx.beginPath();
            inPath = 0;
          }
        }
        if (inPath) { this._paint(ctx, style); }
      }
      ctx.restore();
    },

    _paint: function (ctx, style) {
      if (style.fill) {
        ctx.globalAlpha = style.fillOpacity === undefined ? 1 : style.fillOpacity;
        ctx.fillStyle = style.fill;
        ctx.fill();
      }
      if (style.stroke && style.weight) {
        ctx.globalAlpha = style.opacity === undefined ? 1 : style.opacity;
        ctx.lineWidth = style.weight;
        ctx.strokeStyle = style.stroke;
        ctx.stroke();
      }
    },

    _cellAt: function (latlng) {
      if (!this._map || !this._ids.length) { return -1; }
      var id = h3.latLngToCell(latlng.lat, latlng.lng, this._res);
      var i = this._index.get(id);
      return i === undefined ? -1 : i;
    },

    _value: function (column, i) {
      var col = this._cols[column];
      return col ? col[i] : undefined;
    },

    _popupHtml: function (i) {
      var pop = this.options.popup, small = this.options.small;
      var heads = document.getElementById(this.options.heads);
      var parts = [heads ? heads.children[this._head[i]].innerHTML : ''];
      for (var r = 0; r < pop.rows.length; r++) {
        var row = pop.rows[r];  // [label, column or null, format, fixed text]
        var value = row[1] ? this._value(row[1], i) : row[3];
        if (row[1] && (value === undefined)) { continue; }
        var shown = row[1] ? format(value, row[2], small) : value;
        parts.push(esc(row[0]) + ': <b>' + esc(shown) + '</b>');
      }
      (pop.notes || []).forEach(function (note) {
        parts.push('<span class="hex-note">' + esc(note) + '</span>');
      });
      return parts.join('<br>');
    },

    _openPopup: function (latlng) {
      var i = this._cellAt(latlng);
      if (i < 0) { return; }
      var centre = h3.cellToLatLng(this._ids[i]);
      L.popup({maxWidth: 340, autoPanPadding: [20, 20]})
        .setLatLng(L.latLng(centre[0], centre[1]))
        .setContent(this._popupHtml(i))
        .openOn(this._map);
    },

    _showTip: function (latlng) {
      var i = this._cellAt(latlng);
      if (i < 0) { this._hideTip(); return; }
      var pop = this.options.popup, text = pop.titles[this._style[i]] || '';
      if (this.options.tooltip) {
        text += ' \u00b7 ' + format(this._value(this.options.tooltip[0], i),
          this.options.tooltip[1], this.options.small) + ' ' + this.options.tooltip[2];
      }
      if (!this._tip) {
        this._tip = L.tooltip({direction: 'top', offset: [0, -8], className: 'hex-tip'});
      }
      this._tip.setLatLng(latlng).setContent(esc(text));
      if (!this._map.hasLayer(this._tip)) { this._map.openTooltip(this._tip); }
    },

    _hideTip: function () {
      if (this._tip && this._map && this._map.hasLayer(this._tip)) {
        this._map.closeTooltip(this._tip);
      }
    }
  });

  L.hexLayer = function (payload, options) { return new L.HexLayer(payload, options); };
}(window.L, window.h3));
