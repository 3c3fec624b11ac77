"""Report row builders and writers (Rich, CSV, JSON, XLSX); no Textual."""
