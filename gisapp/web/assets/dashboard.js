// The dashboard's chosen zone kept in the page's address (?zone=CODE), so that a reload, a copied
// link and the language switch show the same zone (gisapp/web/pages/dashboard.py).
window.dash_clientside = Object.assign({}, window.dash_clientside, {
    gisappDashboard: {
        keepZone: function (zone, all, lang) {
            const params = new URLSearchParams(window.location.search);
            // all zones chosen on purpose is written too: a zone editor's page opens on their zone
            params.set("zone", zone && zone !== all ? zone : "all");
            const query = params.toString();
            // replaced, not pushed: the router re-renders the page on a history move, not on this
            window.history.replaceState(window.history.state, "", window.location.pathname + (query ? "?" + query : ""));
            params.set("lang", lang === "zh" ? "en" : "zh");
            return window.location.pathname + "?" + params.toString();
        }
    }
});
