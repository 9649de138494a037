"""Docker: the engine API, the serving image build and the serving container."""
