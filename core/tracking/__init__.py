"""MLflow: the tracking server, training, the logged models and their predictions."""
