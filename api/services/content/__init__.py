"""Content: reading published content (catalog), loading data/units files (loader, data_files, references, versions)
and rendering the documents the API serves (rendering)."""
