"""The explorer's Qt-free state: what is loaded, which parameters are in force, how the run stands.

Views bind to it (they listen to its psygnal events and write to it through its methods); nothing
here imports Qt, so the state can be driven and tested without a window (as napari's viewer model).
"""

from .explorer_state import RUN_STATES, ExplorerEvents, ExplorerState
from .run_progress import RunProgress
from .solver_settings import SolverSettings

__all__ = ["RUN_STATES", "ExplorerEvents", "ExplorerState", "RunProgress", "SolverSettings"]
