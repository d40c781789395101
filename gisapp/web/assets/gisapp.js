// Style functions for dash-leaflet GeoJSON layers, driven by the layer declaration
// (gisapp.render.style.hideout); keep in step with gisapp.render.style.fill_color.
(function () {
// The map's base layers (hideout.canvas, see gisapp/web/pages/map.py) share one canvas: Leaflet
// drew a dense z14 view's 11,000 parcels as SVG paths in ~0.6 s, on a canvas in a fraction of
// that. One canvas for all of them, because a canvas takes every click on its whole area: a
// second canvas above would leave the layers below unclickable. The layer marked ``behind``
// (the zones) is kept under the others; the rule layers and the highlight stay SVG above it
// (an SVG layer lets clicks through wherever it draws nothing).
const canvases = new WeakMap();
function sharedCanvas(map, pane) {
    let renderer = canvases.get(map);
    if (!renderer) {
        // Leaflet's own factory (the page has no global L): a canvas when the map prefers one
        const prefers = map.options.preferCanvas;
        map.options.preferCanvas = true;
        renderer = map._createRenderer({pane: pane});
        map.options.preferCanvas = prefers;
        canvases.set(map, renderer);
    }
    return renderer;
}
// What each layer has drawn now (a canvas has no element per feature): for the page's tests and
// the benchmark, through gisapp.drawnCount and gisapp.shown.
const drawn = {};
function track(layerId, layer) {
    layer.on("add", function () { (drawn[layerId] = drawn[layerId] || new Set()).add(layer); });
    layer.on("remove", function () { if (drawn[layerId]) { drawn[layerId].delete(layer); } });
}
// The declared order of the layers drawn on the shared canvas (hideout.order): a feature that
// arrives after those of a layer declared above it goes behind them, so the zones stay under the
// parcels (and a click on a parcel opens the parcel) whatever order their data comes in.
const canvasOrders = new WeakMap();  // renderer -> {declared order: features drawn}
function keepDeclaredOrder(layer, order) {
    layer.on("add", function () {
        const renderer = layer.options.renderer;
        const counts = canvasOrders.get(renderer) || {};
        canvasOrders.set(renderer, counts);
        const lowest = Object.keys(counts).every(function (o) { return Number(o) >= order || counts[o] === 0; });
        counts[order] = (counts[order] || 0) + 1;
        if (lowest) { layer.bringToBack(); }
    });
    layer.on("remove", function () {
        const counts = canvasOrders.get(layer.options.renderer);
        if (counts && counts[order]) { counts[order] -= 1; }
    });
}
function isAggregate(layer) {
    return Boolean(layer.feature && layer.feature.properties && layer.feature.properties.aggregate);
}
window.gisapp = Object.assign({}, window.gisapp, {
    // How many features of ``layerId`` are drawn (single features, or zone summaries with true).
    drawnCount: function (layerId, aggregates) {
        let n = 0;
        (drawn[layerId] || new Set()).forEach(function (l) { if (isAggregate(l) === Boolean(aggregates)) { n += 1; } });
        return n;
    },
    // The drawn features of ``layerId``: fill and outline colour, page box and centre (px).
    shown: function (layerId) {
        const out = [];
        (drawn[layerId] || new Set()).forEach(function (l) {
            const map = l._map;
            if (!map) { return; }
            const box = map.getContainer().getBoundingClientRect();
            const b = l.getBounds();
            const nw = map.latLngToContainerPoint(b.getNorthWest());
            const se = map.latLngToContainerPoint(b.getSouthEast());
            const c = map.latLngToContainerPoint(l.getCenter());
            out.push({aggregate: isAggregate(l), fill: l.options.fillColor, stroke: l.options.color,
                      properties: (l.feature || {}).properties || {},
                      left: box.left + nw.x, top: box.top + nw.y, right: box.left + se.x, bottom: box.top + se.y,
                      x: box.left + c.x, y: box.top + c.y});
        });
        return out;
    },
    style: function (feature, context) {
        const h = context.hideout || {};
        const props = feature.properties || {};
        let color = h.color;
        const value = h.field ? props[h.field] : undefined;
        if (h.kind === "categories" && value !== undefined && value !== null && h.categories[String(value)]) {
            color = h.categories[String(value)];
        } else if (h.kind === "classes" && value !== undefined && value !== null) {
            for (const c of h.classes) {
                if ((c.min === null || value >= c.min) && (c.max === null || value < c.max)) { color = c.color; break; }
            }
        }
        if (props.aggregate) {
            // a zone-level summary drawn at low zoom: the zone in its most common colour
            return {fillColor: color, color: color, weight: 2, fillOpacity: 0.35, dashArray: null};
        }
        return {
            fillColor: color, color: h.lineColor || color, weight: h.weight,
            fillOpacity: h.fillOpacity, dashArray: h.dashArray
        };
    },
    // Zone-level summaries get a label with their count; features of a layer declaring labels
    // (districts, zones: tens of features) a permanent one with their name from its min zoom on;
    // parcels get none (thousands of tooltips would slow the drawing down).
    label: function (feature, layer, context) {
        const h = context.hideout || {};
        const props = feature.properties || {};
        if (h.base) {
            // the offline base map (city outline, districts): SVG in its own pane under the
            // others, never in the way of a click on what is drawn above it
            layer.options.interactive = false;
            layer.on("add", function () { layer.bringToBack(); });
        } else if (h.canvas && context.map) {
            layer.options.renderer = sharedCanvas(context.map, h.canvas);
            if (h.behind) { layer.on("add", function () { layer.bringToBack(); }); }
            if (typeof h.order === "number") { keepDeclaredOrder(layer, h.order); }
        }
        if (h.layer) { track(h.layer, layer); }
        if (props.aggregate && h.countLabel) {
            // the count of the zone's part in view, then its real total when the answer has one
            let text = h.countLabel.replace("{count}", String(props.count));
            if (h.totalLabel && props.total !== undefined && props.total !== null) {
                text += " · " + h.totalLabel.replace("{total}", String(props.total));
            }
            layer.bindTooltip(text,
                              {permanent: false, direction: "center", className: "aggregate-label"});
        } else if (!props.aggregate && h.labelField && props[h.labelField] !== undefined
                   && props[h.labelField] !== null
                   && (!context.map || context.map.getZoom() >= (h.labelMinZoom || 0))) {
            layer.bindTooltip(String(props[h.labelField]),
                              {permanent: true, direction: "center", interactive: false,
                               className: "feature-label feature-label-" + h.layer});
        }
    }
});
})();
// The map's quota year kept in the page's address (?year=YYYY; none for the latest), so that a
// reload, a copied link and the language switch show the same year (gisapp/web/pages/map.py).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    gisappMap: {
        keepYear: function (year, latest, lang) {
            const params = new URLSearchParams(window.location.search);
            if (year && year !== latest) { params.set("year", String(year)); } else { params.delete("year"); }
            const query = params.toString();
            // replaced, not pushed: the router re-renders the page on a history move, not on this
            window.history.replaceState(window.history.state, "", window.location.pathname + (query ? "?" + query : ""));
            params.set("lang", lang === "zh" ? "en" : "zh");
            return window.location.pathname + "?" + params.toString();
        }
    }
});
