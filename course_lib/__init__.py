"""course_lib: the tested implementations behind the course notebooks.

One module per lecture topic; import what a notebook needs, e.g.::

    from course_lib import setup_notebook, load_dataset, mlp, fit
"""

from .data import DatasetSplits, DeviceLoader, Split, load_dataset, load_photo
from .device import get_device, seed_everything, set_deterministic, set_num_threads
from .models import cnn, count_parameters, mlp
from .profile import Setup, get_profile, setup_notebook
from .source import get_source, show_source
from .training import Callback, History, evaluate, fit, predict, train_epoch

__version__ = "0.1.0"

__all__ = [
    "DatasetSplits", "DeviceLoader", "Split", "load_dataset", "load_photo",
    "get_device", "seed_everything", "set_deterministic", "set_num_threads",
    "cnn", "count_parameters", "mlp",
    "Setup", "get_profile", "setup_notebook",
    "get_source", "show_source",
    "Callback", "History", "evaluate", "fit", "predict", "train_epoch",
]
