"""sdconsole: one window where every support request lands, is routed and is fixed."""

__version__ = "0.1.0"
