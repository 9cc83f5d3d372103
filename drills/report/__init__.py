"""The after-action report of a drill: data (``assemble``), its HTML, PDF and CSV forms, and charts."""
