"""The explorer's Qt-free state: what is loaded, which parameters are in force, how the run stands.

Views bind to it (they listen to its events and write to it through its methods); nothing here
imports Qt, so the state can be driven and tested without a window (as napari's viewer model).
"""

from .events import Event, EventGroup
from .explorer_state import RUN_STATES, ExplorerState

__all__ = ["RUN_STATES", "Event", "EventGroup", "ExplorerState"]
