"""The strict sandbox emulator: moto, extended in-process to check, run and fail as SageMaker does."""
