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
        return {
            fillColor: color, color: h.lineColor || color, weight: h.weight,
            fillOpacity: h.fillOpacity, dashArray: h.dashArray
        };
    }
});
