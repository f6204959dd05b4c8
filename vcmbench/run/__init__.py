"""Running conditions: the pipeline (the only module that strings the stages together), the jobs
it plans, the executors that run them, the run store, result sets, progress and provenance."""
