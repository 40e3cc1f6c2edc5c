"""FIMA Explorer's engine: Algorithm 1 of Liu et al. (TPAMI 2019) and its variants, Qt-free.

Scripting in five lines::

    from core import build_task, iterate
    setup = build_task("deblur", kernel="levin:4", noise=0.01)
    for record in iterate(setup.problem, setup.module, setup.parameters, "fima", max_iter=30):
        print(record.k, record.objective, record.accepted, record.psnr)
"""

__version__ = "0.1.0"

# Before anything below imports torch (and its OpenMP runtime reads the environment): idle OpenMP
# threads sleep instead of spinning on a busy machine, unless the user chose otherwise.
from .threads import wait_passively  # noqa: E402

wait_passively()

from .algorithm import VARIANTS, iterate, run  # noqa: E402
from .io import InputError, load_image, load_kernel, save_image  # noqa: E402
from .params import Parameters, ParameterTimeline, RunTimeline  # noqa: E402
from .problem import Problem  # noqa: E402
from .tasks import TaskSetup, build_task, task_names  # noqa: E402
from .trace import COLUMNS, Iteration  # noqa: E402

__all__ = [
    "COLUMNS",
    "VARIANTS",
    "InputError",
    "Iteration",
    "ParameterTimeline",
    "Parameters",
    "Problem",
    "RunTimeline",
    "TaskSetup",
    "build_task",
    "iterate",
    "load_image",
    "load_kernel",
    "run",
    "save_image",
    "task_names",
]
