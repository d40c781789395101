// The style viewer (/styles/viewer): a MapLibre map drawing a style of the app
// (/styles/<layer>.json or /styles/map.json) from its vector tiles. The page's tests and other
// scripts read window.gisappViewer: the map, and whether it has finished drawing.
(function () {
    const el = document.getElementById("viewer-map");
    const options = {container: el, style: el.dataset.style, attributionControl: {compact: false}};
    if (el.dataset.center) { options.center = JSON.parse(el.dataset.center); }
    if (el.dataset.zoom) { options.zoom = Number(el.dataset.zoom); }
    const viewer = {map: null, idle: false, error: null};
    window.gisappViewer = viewer;
    try {
        viewer.map = new maplibregl.Map(options);
    } catch (err) {
        viewer.error = String(err && err.message || err);
        el.textContent = el.dataset.noWebgl;
        return;
    }
    viewer.map.addControl(new maplibregl.NavigationControl(), "top-right");
    viewer.map.addControl(new maplibregl.ScaleControl(), "bottom-left");
    viewer.map.on("idle", function () { viewer.idle = true; });
    viewer.map.on("movestart", function () { viewer.idle = false; });
    viewer.map.on("error", function (e) { viewer.error = String(e && e.error && e.error.message || e); });
})();
