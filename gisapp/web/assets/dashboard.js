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
        // dcc.Graph loads plotly.js (4.8 MB) only when the first chart mounts, i.e. after the
        // server's answer, and then runs it before drawing anything. Started here, with the
        // request for the charts, the script loads and runs while the server works. dcc.Graph
        // takes a set window.Plotly for the library and waits on it (Promise.resolve), so until
        // the script has run window.Plotly is a promise of it: a chart mounted meanwhile waits
        // for this script instead of adding a second copy. plotly.js sets window.Plotly itself.
        loadPlotly: function () {
            if (window.Plotly || !window._dashPlotlyJSURL) {
                return window.dash_clientside.no_update;
            }
            const script = document.createElement("script");
            script.src = window._dashPlotlyJSURL;
            script.async = true;
            window.Plotly = new Promise(function (resolve, reject) {
                script.onload = function () { resolve(); };
                script.onerror = function (error) { delete window.Plotly; reject(error); };
            });
            document.body.appendChild(script);
            return true;
        }
    }
});
