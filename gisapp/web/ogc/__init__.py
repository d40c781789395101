"""OGC API – Features for every declared layer, under ``/ogc`` (docs/gis_clients.md)."""

from gisapp.web.ogc.routes import ogc

__all__ = ["ogc"]
