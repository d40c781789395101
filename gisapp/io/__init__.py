"""Import and export: readers and writers for GeoPackage, Shapefile, GeoJSON, KML, CSV and Excel;
CRS handling including GCJ-02 and BD-09; validation reports; all-or-nothing imports.

See docs/data_exchange.md. Takes frames, paths or an engine; never a web request.
"""

from gisapp.io.crs import CrsSpec, resolve_crs
from gisapp.io.importer import ImportRejected, ImportResult, import_file
from gisapp.io.report import Report
from gisapp.io.writers import write_frame

__all__ = ["CrsSpec", "ImportRejected", "ImportResult", "Report", "import_file", "resolve_crs", "write_frame"]
