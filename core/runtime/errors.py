"""Exceptions a step raises to end itself; their messages are sentences for the user."""


class StepError(RuntimeError):
    """The step failed for a reason the user can act on; the message says what happened and what to do."""


class Cancelled(RuntimeError):
    """The user cancelled the running step."""


class SkipStep(RuntimeError):
    """The step does not apply in this configuration; the message says why."""
