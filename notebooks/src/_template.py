# %% [markdown]
# # NN · Title of the lecture topic
#
# **Learning objectives.** After this notebook you can
# 1. ... (a verb: explain / implement / measure / choose)
# 2. ...
#
# *Lecture:* which deck and slides this follows. *Runs in:* about N s on a laptop CPU (fast profile).

# %% {"tags": ["colab"]}
# Google Colab only (detected, not assumed): install course_lib and the packages Colab lacks,
# about a minute once per session. Anywhere else this cell does nothing.
import sys

if "google.colab" in sys.modules:
    import importlib
    import subprocess
    REPOSITORY = ""  # the course's public git address (pyproject.toml: [project.urls])
    if not REPOSITORY:
        raise RuntimeError("this copy of the course names no public repository to install course_lib from "
                           "(pyproject.toml, [project.urls] Repository). Upload the course folder to Colab "
                           "and run: pip install '<folder>[colab]'")
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", f"course_lib[colab] @ git+{REPOSITORY}"],
                   check=True)
    importlib.invalidate_caches()

# %% [markdown]
# ## Set-up
# Profile, seed and device are set in one place. `COURSE_PROFILE=full` switches to the real
# datasets and longer runs (see the README).

# %%
import torch
import matplotlib.pyplot as plt

from course_lib import setup_notebook, load_dataset, mlp, fit, evaluate, show_source
from course_lib.plots import plot_history
from course_lib.exercises import exNN as ex

ctx = setup_notebook(seed=0)
EPOCHS = ctx.pick(fast=20, full=100)

# %% [markdown]
# ## 1. The idea
# Prose and the equation in LaTeX, e.g. $\theta \leftarrow \theta - \alpha \nabla_\theta J(\theta)$.

# %% [markdown]
# ### The code we use
# The implementation lives in `course_lib` (one tested copy); we display it instead of pasting it.

# %%
show_source(fit)

# %% [markdown]
# ## 2. The experiment
# Data, model, run, figure (labelled axes, legend, title).

# %%
data = load_dataset("mnist1d", device=ctx.device)
...

# %% [markdown]
# ## 3. Checking the claim
# The claim of this notebook, asserted with a margin, so CI fails if the demonstration stops showing it.
# `ctx.claim(value, op, bound, message)` records the value and its margin; size the bound to the spread that
# `tools/numerics_matrix.py NN` measures over kernel sets and seed offsets.

# %%
print(f"gap = {gap:.2f}")   # a number from training: not NBVAL_CHECK_OUTPUT (it moves with the machine's rounding)
ctx.claim(gap, ">", 0.1, f"expected a clear train/val gap, got {gap:.3f}")

# %% [markdown]
# ## Summary
# - three to five bullet points

# %% [markdown]
# ## Exercises
# ### Exercise 1 — short title
# The question. Write your answer in the cell below, then run the check.

# %% {"tags": ["exercise"]}
answer_1 = None  # replace None with your answer

# %%
ex.check_exercise_1(answer_1)

# %% [markdown]
# <details><summary><b>Solution</b> (click to show; the code cell below is collapsed: click its left bar to expand)</summary>
#
# Explanation of the solution in words.
# </details>

# %% {"tags": ["solution"]}
solution_1 = ...
assert ex.check_exercise_1(solution_1)
