"""SQL the app runs, one module per concern. Identifiers come from layer declarations (quoted);
user values are always bound parameters."""
