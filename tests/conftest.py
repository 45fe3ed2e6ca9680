"""Session-wide test settings.

- one torch thread: as fast as two at our sizes, and two threads showed rare large stalls
  (OMP_NUM_THREADS=1 also reaches subprocesses such as notebook kernels);
- matplotlib's non-interactive Agg backend (MPLBACKEND=Agg for subprocesses too).

Slow tests run by default (`make test`); `make test-fast` deselects them by marker.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("MPLBACKEND", "Agg")

import matplotlib  # noqa: E402

matplotlib.use("Agg")

import torch  # noqa: E402

torch.set_num_threads(1)
