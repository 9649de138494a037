"""The train step: train and log the model."""

from __future__ import annotations

from core.steps.base import Step


class TrainStep(Step):
    id = "train"
    title = "Train and log the model"
    group = "Local"
    consumes = ('tracking',)
    explanation = (
        "Trains the tutorial's model, a RandomForestRegressor on the iris petal features (test_size 0.3, "
        'random_state 7), in the experiment my_classification_model, logging the parameter num_estimators, '
        'the metric mse and the model random-forest-model with its signature and an input example. It is '
        "written for today's MLflow: the tutorial's `mlflow.sklearn.log_model(rf, ...)` fails on MLflow 3. "
        'Set train.script to run your own training script instead. '
    )
    manual = "python train.py   # mlflow.set_experiment('my_classification_model'); with mlflow.start_run(): ..."
