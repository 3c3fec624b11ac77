"""The `sdconsole` command line (Typer); Textual is imported only by commands that open the TUI."""
