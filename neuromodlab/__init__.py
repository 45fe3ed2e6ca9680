"""neuromodlab: multitask RNNs and two pathways of context modulation (a course library)."""

__version__ = "0.1.0"
