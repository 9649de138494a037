"""The run machinery every step uses: project, settings, state, engine, events, logs, processes."""
