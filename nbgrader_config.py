"""nbgrader configuration of the neuromodlab course.

Read by every ``nbgrader`` command run in this directory and by ``python -m neuromodlab.grading``
(which runs nbgrader here). The course directory is the directory of this file:

    solutions/<assignment>/*.ipynb    source   (instructor notebooks, checked in)
    tutorials/<assignment>/*.ipynb    release  (student notebooks, generated, checked in)
    submitted/ autograded/ feedback/  nbgrader's per-student folders (git-ignored)
    gradebook.db                      the gradebook (git-ignored)
    nbgrader_work/                    grade export, LMS downloads for zip_collect, repair
                                      backups, build staging, the pipeline lock (git-ignored)

See docs/instructors.md for a whole term with these commands.
"""

import os
import sys

c = get_config()  # noqa: F821 (provided by traitlets when it loads this file)
HERE = os.path.dirname(os.path.abspath(__file__))

try:  # neuromodlab provides the feedback preprocessor below
    import neuromodlab.grading.feedback  # noqa: F401
except ImportError:  # not pip-installed: use the checkout this file belongs to
    sys.path.insert(0, HERE)
from nbconvert.preprocessors import CSSHTMLHeaderPreprocessor  # noqa: E402
from nbgrader.preprocessors import GetGrades  # noqa: E402

from neuromodlab.grading.feedback import HideHiddenTests  # noqa: E402
from neuromodlab.grading.kernel_wait import install as install_kernel_wait  # noqa: E402
from neuromodlab.grading.settings import (  # noqa: E402
    COURSE_ID,
    DB_FILE,
    RELEASE_DIR,
    SOURCE_DIR,
    WORK_DIR,
)

# --- the course directory ---------------------------------------------------------------------
c.CourseDirectory.root = HERE
c.CourseDirectory.course_id = COURSE_ID
c.CourseDirectory.source_directory = SOURCE_DIR  # "solutions"
c.CourseDirectory.release_directory = RELEASE_DIR  # "tutorials"
c.CourseDirectory.db_url = "sqlite:///" + os.path.join(HERE, DB_FILE)  # git-ignored
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback",
                            ".DS_Store"]

# --- release: what replaces a solution ---------------------------------------------------------
c.ClearSolutions.code_stub = {
    "python": "# YOUR CODE HERE\n"
              "raise NotImplementedError(\"Exercise: replace this line with your code\")"
}

# --- autograde ---------------------------------------------------------------------------------
c.Execute.kernel_name = "python3"
c.Execute.timeout = 120  # seconds per cell (nbgrader's default is 30); tutorial cells take < 20
c.Execute.startup_timeout = 120
c.Execute.interrupt_on_timeout = True  # an infinite loop costs one timeout, not the submission
install_kernel_wait()  # nbclient#312: a widget cell could wait the whole timeout for its reply
# A test cell with anything on stderr scores 0: drop warnings and progress bars from stderr
# before grading (errors are separate outputs and still fail the cell).
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = r"(Warning|warnings\.warn|it/s\]|s/it\]|\d+%\|)"
# A student who deleted a test cell still gets it graded (not "needs manual grading").
c.OverwriteCells.add_missing_cells = True
c.LimitOutput.max_lines = 300
c.LimitOutput.max_traceback = 60

# --- feedback: hidden tests stay hidden (so they can be reused next term) ----------------------
c.GenerateFeedback.preprocessors = [GetGrades, CSSHTMLHeaderPreprocessor, HideHiddenTests]

# --- zip_collect: notebooks handed in through an LMS (e.g. downloaded from Colab) ------------
# Put the LMS's bulk download in nbgrader_work/downloaded/<assignment>/archive/, then run
# `nbgrader zip_collect <assignment>`. The file name gives the student id; this pattern reads
# Canvas' names (`<student>_[late_]<id>_<id>_<original name>`); docs/instructors.md has others.
c.ZipCollectApp.downloaded_directory = os.path.join(WORK_DIR, "downloaded")
c.FileNameCollectorPlugin.named_regexp = (
    r".*/(?P<student_id>[^/_]+)_(?:late_|LATE_)?\d+_\d+_(?P<file_id>[^/]+)$"
)

# --- JupyterHub exchange (release_assignment / collect); uncomment and adapt -------------------
# c.Exchange.root = "/srv/nbgrader/exchange"
