"""Code that runs inside the serving image (it imports only what the image has: MLflow, uvicorn)."""
