// Style functions for dash-leaflet GeoJSON layers, driven by the layer declaration
// (gisapp.render.style.hideout); keep in step with gisapp.render.style.fill_color.
window.gisapp = Object.assign({}, window.gisapp, {
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
    // Zone-level summaries get a permanent label with their count; single features get none
    // (thousands of tooltips would slow the drawing down).
    label: function (feature, layer, context) {
        const h = context.hideout || {};
        const props = feature.properties || {};
        if (props.aggregate && h.countLabel) {
            layer.bindTooltip(h.countLabel.replace("{count}", String(props.count)),
                              {permanent: false, direction: "center", className: "aggregate-label"});
        }
    }
});
