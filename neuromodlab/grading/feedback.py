"""Feedback preprocessor: students see their scores and the visible tests, not the hidden ones.

nbgrader puts hidden tests into generated feedback by design. :class:`HideHiddenTests` (listed in
``GenerateFeedback.preprocessors`` in nbgrader_config.py) removes the hidden region from each test
cell's code, and replaces the traceback of an error raised by a hidden test with its one-line
message (assertion messages in our tests never contain the answer).
"""

from __future__ import annotations

import re

from nbgrader.preprocessors import NbGraderPreprocessor

from .notebooks import BEGIN_HIDDEN, END_HIDDEN, regions, remove_regions

ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")
PLACEHOLDER = "# (hidden tests: not shown in feedback)"


class HideHiddenTests(NbGraderPreprocessor):
    """Remove ``### BEGIN HIDDEN TESTS`` regions (and tracebacks quoting them) from feedback."""

    def preprocess_cell(self, cell, resources, cell_index):
        if cell.cell_type != "code" or BEGIN_HIDDEN not in cell.source:
            return cell, resources
        hidden = [line.strip() for region in regions(cell.source, BEGIN_HIDDEN, END_HIDDEN)
                  for line in region.splitlines() if line.strip()]
        cell.source = remove_regions(cell.source, BEGIN_HIDDEN, END_HIDDEN, PLACEHOLDER)
        for output in cell.get("outputs", []):
            if output.get("output_type") != "error":
                continue
            text = ANSI.sub("", "\n".join(output.get("traceback", [])))
            if any(line in text for line in hidden):
                output["traceback"] = [
                    f"{output.get('ename', 'Error')}: {output.get('evalue', '')}",
                    "(raised by a hidden test; its code is not shown)",
                ]
        return cell, resources
