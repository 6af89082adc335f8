"""pytest settings for every path under the repository, so that ``pytest notebooks/04_augmentation_and_noise.ipynb``
runs the notebook's kernel as quietly as ``make test`` does: no progress bars (their stream of updates can outlast
nbval's wait for a cell's output), and matplotlib without a display."""

import os

os.environ.setdefault("COURSE_PROGRESS", "0")
os.environ.setdefault("MPLBACKEND", "Agg")
