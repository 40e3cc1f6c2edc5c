"""Running the solver: the worker in its thread, the run around it, and the run controller."""
