"""sagewiz core: steps, engine, state and services. Never imports the UI."""
