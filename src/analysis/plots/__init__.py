"""Figures: one style and deterministic saving (``style``), and the plots
(``charts``), each taking a table and returning a matplotlib Figure.

A notebook needs only ``from analysis import plots``: the names below are the
whole public surface.
"""

from .charts import alpha_bars, bars, event_timeline, grouped_bars, heatmap, stacked_bars
from .style import FORMATS, OKABE_ITO, ROLE_COLOURS, SIDE_COLOURS, save_figure

__all__ = ["FORMATS", "OKABE_ITO", "ROLE_COLOURS", "SIDE_COLOURS", "alpha_bars", "bars",
           "event_timeline", "grouped_bars", "heatmap", "save_figure", "stacked_bars"]
