"""The model step: choose the model."""

from __future__ import annotations

from core.steps.base import Step


class ModelStep(Step):
    id = "model"
    title = "Choose the model"
    group = "Local"
    consumes = ('tracking', 'train')
    explanation = (
        'Picks the run whose model gets deployed (the newest by default, or model.run_id), checks that it has '
        'the python_function flavor SageMaker serving needs, loads it and predicts on its input example, so a '
        'broken model fails here and not on a paid endpoint. '
    )
    manual = 'mlflow runs list --experiment-id <id>\npython -c "import mlflow; m = mlflow.pyfunc.load_model(\'runs:/<run_id>/random-forest-model\'); print(m.metadata)"'
