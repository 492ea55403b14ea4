"""The report's look, and saving figures as deterministic files.

The palette is Okabe & Ito's (2008), readable with every common colour-vision
deficiency; heatmaps use cividis, which is too. ``new_figure`` writes the
``n`` a figure shows (e.g. "n = 3 documents, 41 paragraphs") under its title,
so no figure leaves the report without its n; ``save_figure`` writes it with
no dates or random ids.
"""

import importlib.util
import io
import logging
from pathlib import Path

import matplotlib
from matplotlib import font_manager
import matplotlib.pyplot as plt
import numpy as np

from ..core.errors import InputError
from ..core.fileio import write_bytes_atomic
from ..core.formatting import thousands

OKABE_ITO = {"blue": "#0072B2", "vermillion": "#D55E00", "green": "#009E73",
             "orange": "#E69F00", "sky": "#56B4E9", "purple": "#CC79A7",
             "yellow": "#F0E442", "grey": "#999999", "black": "#000000"}
# "unresolved" (the side could not be told) is drawn apart from "neutral"
# (the event favours neither side)
SIDE_COLOURS = {"accuser": OKABE_ITO["blue"], "accused": OKABE_ITO["vermillion"],
                "neutral": OKABE_ITO["grey"], "unresolved": OKABE_ITO["black"]}
# the roles cleaning gives lines, one colour each whatever roles a corpus has
ROLE_COLOURS = {"title": OKABE_ITO["blue"], "body": OKABE_ITO["orange"],
                "caption": OKABE_ITO["green"], "credit": OKABE_ITO["vermillion"],
                "comment": OKABE_ITO["purple"], "boilerplate": OKABE_ITO["sky"]}
CYCLE = [OKABE_ITO[k] for k in ("blue", "orange", "green", "vermillion", "purple", "sky",
                                "yellow", "grey")]
FORMATS = ("png", "svg")
# Chinese labels (outlets, case titles, words of Chinese topics) are drawn
# with Noto Sans CJK SC from the pinned mplfonts package: matplotlib falls
# back to it, glyph by glyph, for what DejaVu Sans lacks.
CJK_FONT = "Noto Sans CJK SC"
_CJK_FILE = ("fonts", "NotoSansCJKsc-Regular.otf")
# Fixed fonts, sizes and resolution make the files the same on every machine
# that has the pinned matplotlib (its DejaVu fonts ship inside the wheel) and
# the pinned mplfonts; the SVG hash salt fixes the ids matplotlib would
# otherwise draw at random.
STYLE = {
    "font.family": ["DejaVu Sans", CJK_FONT], "font.size": 9, "axes.titlesize": 10,
    "axes.titleweight": "bold", "axes.titlelocation": "left", "axes.spines.top": False,
    "axes.spines.right": False, "axes.prop_cycle": matplotlib.cycler(color=CYCLE),
    "figure.dpi": 100, "savefig.dpi": 150, "figure.facecolor": "white",
    "savefig.facecolor": "white", "svg.hashsalt": "analysis", "svg.fonttype": "path",
    "image.cmap": "cividis",
    # labels come from the corpus (outlet names, case titles): a "$" there is
    # a dollar sign, never the start of matplotlib's maths text
    "text.parse_math": False,
}
_METADATA = {"png": {"Software": None}, "svg": {"Date": None, "Creator": None}}


def cjk_font_file() -> Path:
    """The CJK font's file, found in the installed mplfonts package without
    importing it (its import configures matplotlib in ways of its own)."""
    spec = importlib.util.find_spec("mplfonts")
    path = Path(spec.origin).parent.joinpath(*_CJK_FILE) if spec and spec.origin else None
    if path is None or not path.is_file():
        raise InputError(f"the CJK font {CJK_FONT} ({'/'.join(_CJK_FILE)} of the mplfonts "
                         "package) is missing, so Chinese labels would draw as empty boxes; "
                         "recreate the environment: rm -rf .venv && make venv.")
    return path


_registered = []


def use_style():
    """Apply the report's style, with the CJK font registered (once per process)."""
    if not _registered:
        font_manager.fontManager.addfont(str(cjk_font_file()))
        # the CJK font has one weight: bold Chinese is drawn regular, and
        # matplotlib need not say so on every bold title
        logging.getLogger("matplotlib.font_manager").setLevel(logging.ERROR)
        _registered.append(True)
    matplotlib.rcParams.update(STYLE)


def new_figure(width=7.0, height=4.0, title="", n=""):
    use_style()
    fig, ax = plt.subplots(figsize=(width, height), layout="constrained")
    fig.suptitle(title, x=0.01, ha="left", fontweight="bold", fontsize=10)
    ax.set_title(thousands(n), fontsize=8, fontweight="normal", color="#444444")
    return fig, ax


def say_empty(ax, what):
    ax.text(0.5, 0.5, f"No {what} in the selected documents", ha="center", va="center",
            transform=ax.transAxes, color="#444444")
    ax.set_xticks([])
    ax.set_yticks([])


def bar_axes(ax, labels, xlabel: str, share: bool, legend=False, counts=False):
    """The shared look of horizontal bars: labels top to bottom, the x label,
    a 0-100% axis for shares, whole-number ticks for ``counts``, and the
    legend when there are several series."""
    ax.set_yticks(np.arange(len(labels)), [str(i) for i in labels])
    ax.invert_yaxis()
    ax.set_xlabel(xlabel)
    if counts:
        ax.xaxis.set_major_locator(matplotlib.ticker.MaxNLocator(integer=True))
        ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    if share:
        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(matplotlib.ticker.PercentFormatter(1.0))
    if legend:  # below the plot, where it can hide no bar
        handles = ax.get_legend_handles_labels()[0]
        ax.figure.legend(loc="outside lower center", ncol=min(len(handles), 6), fontsize=8,
                         frameon=False)


def save_figure(fig, stem: str, folder, formats=FORMATS) -> list:
    """Write ``fig`` as ``folder/stem.<format>`` for each format (png, svg,
    pdf), atomically and with no dates or random ids; closes the figure.
    Returns the paths written (unchanged files are left untouched)."""
    unknown = sorted(set(formats) - {"png", "svg", "pdf"})
    if unknown:
        raise InputError(f"parameter figure_formats: {', '.join(unknown)} not supported; use "
                         "png, svg or pdf.")
    folder = Path(folder)
    out = []
    with matplotlib.rc_context(STYLE):
        for fmt in formats:
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata=_METADATA.get(fmt, {"CreationDate": None}))
            path = folder / f"{stem}.{fmt}"
            write_bytes_atomic(path, buf.getvalue())
            out.append(path)
    plt.close(fig)
    return out
