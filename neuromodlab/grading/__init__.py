"""The course pipeline: build the student release from the instructor notebooks, repair hand-ins,
autograde, feedback and grade export, all with real nbgrader (see docs/instructors.md).

Command line (from the course root, the folder holding nbgrader_config.py, or with
``--root PATH`` before the command)::

    python -m neuromodlab.grading build [--assignment A] [--no-think-answers] [--check]
    python -m neuromodlab.grading repair A
    python -m neuromodlab.grading autograde A [--timeout SECONDS]
    python -m neuromodlab.grading autograde A --workers N [--scheduler ADDRESS] --db URL
    python -m neuromodlab.grading feedback A
    python -m neuromodlab.grading export [--to grades.csv]
    python -m neuromodlab.grading scores A

``--workers``/``--scheduler`` grade in parallel with Dask (:mod:`.parallel`, the ``dask`` extra)
into a PostgreSQL gradebook (``--db URL`` or ``$NEUROMODLAB_DB_URL``, see :mod:`.postgres`);
without them the SQLite ``gradebook.db`` is used, one nbgrader process at a time.

Commands that write to the course hold a lock (``nbgrader_work/pipeline.lock``): a second one
waits for the first. Needs the ``instructor`` extra (nbgrader); students never import this
package.
"""

from .course import (
    BuildError,
    assignments,
    build,
    find_course_root,
    init_course,
    nbgrader_env,
    run_nbgrader,
    source_notebooks,
)
from .grades import autograde, export, feedback, scores, totals
from .repair import repair_notebook, repair_submissions
from .settings import REPO_URL

__all__ = [
    "REPO_URL", "BuildError", "assignments", "autograde", "build", "export", "feedback",
    "find_course_root", "init_course", "nbgrader_env", "repair_notebook", "repair_submissions",
    "run_nbgrader", "scores", "source_notebooks", "totals",
]
