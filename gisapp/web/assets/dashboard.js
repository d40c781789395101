// The dashboard's chosen zone kept in the page's address (?zone=CODE), so that a reload, a copied
// link and the language switch show the same zone; plotly.js fetched and run while the server
// computes the dashboard (gisapp/web/pages/dashboard.py).
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
        },
        // dcc.Graph loads plotly.js (4.8 MB), and the grid and the graph their own code, only
        // when they mount, i.e. after the server's answer; plotly.js then runs before anything is
        // drawn. Started here, with the request for the sections, the scripts load and run while
        // the server works, from their versioned addresses (the page gives them), which the
        // browser keeps without asking the server again. The code of the grid and the graph are
        // webpack chunks: run once, they are known, and not loaded again. dcc.Graph takes a set
        // window.Plotly for the library and waits on it (Promise.resolve), so until the script has
        // run window.Plotly is a promise of it: a chart mounted meanwhile waits for this script
        // instead of adding a second copy. plotly.js sets window.Plotly itself.
        preload: function (zone, urls) {
            const load = function (src) {
                const script = document.createElement("script");
                script.src = src;
                script.async = true;
                document.body.appendChild(script);
                return script;
            };
            if (!urls || window.Plotly) {
                return window.dash_clientside.no_update;
            }
            const script = load(urls.plotly);
            window.Plotly = new Promise(function (resolve, reject) {
                script.onload = function () { resolve(); };
                script.onerror = function (error) { delete window.Plotly; reject(error); };
            });
            urls.chunks.forEach(load);
            return window.dash_clientside.no_update;
        }
    }
});
