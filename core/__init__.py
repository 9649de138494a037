"""sagewiz core: steps, engine, state and services. Never imports the UI."""

__version__ = "0.1.0"
