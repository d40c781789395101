"""Database access: the local PostGIS manager, the engine, the migrator."""
